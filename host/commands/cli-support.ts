/**
 * What the signing commands (pack, keygen, sign, verify, trust) share: flag parsing with node:util
 * (strict: an unknown or misspelt flag is a usage error, never silently ignored), error reporting by
 * code, and the exit-code convention — 0 ok, 1 a verification, policy or other refusal, 2 usage.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { HostError, isHostError } from '../errors.ts';
import type { CommandIO } from './io.ts';
import { osErrorToHostError } from './os-errors.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses argv strictly. @throws HostError USAGE */
export function parseFlags<O extends Options>(argv: string[], options: O): { values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true; args: string[] }>>['values']; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values, positionals };
  } catch (e) {
    const message = e instanceof Error ? (e.message.split('\n')[0] ?? 'bad usage') : 'bad usage';
    // node:util's "Unknown option '--x'. To specify a positional argument …": the first sentence says it.
    const unknown = (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'([^']+)'/.exec(message)?.[1] : undefined;
    throw new HostError('USAGE', unknown !== undefined ? `unknown option ${unknown}` : message.slice(0, 300));
  }
}

/** Reads a file the user named. @throws HostError USAGE when it cannot be read */
export async function readUserFile(io: CommandIO, path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(resolve(io.cwd, path));
  } catch {
    throw new HostError('USAGE', `cannot read ${what} ${path}`);
  }
}

/** Reads and parses a bundle (JSON) file the user named. @throws HostError USAGE (unreadable), BUNDLE_INVALID (not JSON) */
export async function readBundleJson(io: CommandIO, path: string, what: string): Promise<unknown> {
  const text = (await readUserFile(io, path, what)).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HostError('BUNDLE_INVALID', `${what} ${path} is not valid JSON`);
  }
}

/** The flags every command takes. */
export const COMMON_OPTIONS = { json: { type: 'boolean' }, help: { type: 'boolean' } } as const;
/** --home DIR, for the commands that work on a home. */
export const HOME_OPTION = { home: { type: 'string' } } as const;

export type ParsedFlags<O extends Options> = ReturnType<typeof parseFlags<O>>;

/**
 * A command from its name, usage text and flags: --help, strict flag parsing (plus --json and --help)
 * and error reporting done once (runCommand), the body gets the parsed flags.
 */
export function defineCommand<O extends Options>(
  name: string,
  usage: string,
  options: O,
  body: (flags: ParsedFlags<O & typeof COMMON_OPTIONS>, io: CommandIO, json: boolean) => Promise<number>,
): (argv: string[], io: CommandIO) => Promise<number> {
  const all = { ...options, ...COMMON_OPTIONS };
  return (argv, io) => runCommand(io, name, usage, argv, (json) => body(parseFlags(argv, all), io, json));
}

export function writeJson(io: CommandIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Runs a command body: prints --help, maps a thrown HostError to its exit code and a one-line message
 * (`mcp-warden CMD: CODE: message` on stderr; with --json also `{ ok: false, error }` on stdout).
 */
export async function runCommand(io: CommandIO, name: string, usage: string, argv: string[], body: (json: boolean) => Promise<number>): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(usage);
    return 0;
  }
  const json = argv.includes('--json');
  try {
    return await body(json);
  } catch (thrown) {
    const e = isHostError(thrown) ? thrown : (osErrorToHostError(thrown) ?? thrown);
    const code = isHostError(e) ? e.code : 'INTERNAL';
    const raw = e instanceof Error ? e.message : String(e);
    // One line: a message with a newline (a stack, a multi-line library error) would look like two errors.
    const oneLine = raw.replace(/\s*\n[\s\S]*$/, '');
    const message = code === 'INTERNAL' ? `${oneLine} (this is a bug in mcp-warden; please report it)` : oneLine;
    io.stderr.write(`mcp-warden ${name}: ${code}: ${message.slice(0, 1000)}\n`);
    if (code === 'USAGE') io.stderr.write(`Run "mcp-warden ${name} --help" for usage.\n`);
    if (json) writeJson(io, { ok: false, error: { code, message: message.slice(0, 1000) } });
    return code === 'USAGE' ? 2 : 1;
  }
}
