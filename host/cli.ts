#!/usr/bin/env node
/**
 * The mcp-warden command line: `mcp-warden <command> [options]`. Commands load lazily (commands/index.ts).
 */
import { mkdirSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS, SUMMARIES } from './commands/index.ts';
import type { CommandIO } from './commands/io.ts';
import { VERSION } from './version.ts';

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.keys(COMMANDS)
    .sort()
    .map((c) => `  ${c.padEnd(width)}  ${SUMMARIES[c] ?? ''}`);
  return `mcp-warden ${VERSION}: a sandboxed runtime for untrusted MCP tools

Usage: mcp-warden <command> [options]

Commands:
${lines.join('\n')}

Run "mcp-warden <command> --help" for a command's options.
`;
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.stdout.write(help());
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!load) {
    io.stderr.write(`mcp-warden: unknown command "${cmd.slice(0, 50)}"\n\n${help()}`);
    return 2;
  }
  const command = await load();
  return command.run(rest, io);
}

/**
 * V8's compile cache halves the host's start-up (most of it is loading modules). The cache holds
 * compiled code, so it lives in a directory only this user can write (never a shared /tmp): whoever can
 * write it can run code in the host.
 */
function compileCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  try {
    const dir = join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mcp-warden', 'v8');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  } catch {
    return undefined;
  }
}
const cacheDir = compileCacheDir(process.env);
if (cacheDir !== undefined) enableCompileCache(cacheDir);

// A stray rejection (e.g. a client that vanished mid-write) is logged, never fatal: the host keeps serving.
process.on('unhandledRejection', (reason) => {
  const msg = reason instanceof Error ? reason.message : String(reason);
  process.stderr.write(`mcp-warden: unhandled rejection: ${msg.slice(0, 300)}\n`);
});

const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), stdin: process.stdin });
process.exit(code);
