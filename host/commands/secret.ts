/**
 * `mcp-warden secret set|list|rm`: the values of the secrets packages declare (docs/secrets.md). A value
 * is asked on the terminal with input hidden (the `read` library, as for passphrases), or read from
 * stdin with --stdin; never from the command line, which every local user can see.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { read } from 'read';
import { SECRET_NAME, describeSecretPlace } from '../../runtime/index.ts';
import { HostError } from '../errors.ts';
import { readConfig } from '../home/config.ts';
import { ensureHome, homeLayout, installedPackages, readLock, resolveHomeDir } from '../home/home.ts';
import type { Home } from '../home/home.ts';
import { parsePackageManifest } from '../manifest.ts';
import { systemKeychain } from '../secrets/key.ts';
import { ANY_PACKAGE, listStored, removeSecret, storeSecret } from '../secrets/store.ts';
import { HOME_OPTION, defineCommand, writeJson } from './cli-support.ts';
import type { CommandIO } from './io.ts';

export const USAGE = `Usage: mcp-warden secret set NAME [--package P] [--stdin] [--home DIR]
       mcp-warden secret list [--home DIR] [--json]
       mcp-warden secret rm NAME [--package P] [--home DIR]

Stores the value of a secret that packages declare in their manifest (capabilities.secrets), encrypted
(AES-256-GCM) in <home>/secrets.json with a key kept in the OS keychain where one is reachable, else in
<home>/secrets.key (0600). Tool code never sees the value: serve sends it only to the hosts and in the
place the package's manifest binds it to (docs/secrets.md).

  set NAME    asks for the value on the terminal (not echoed); with --stdin reads it from standard input
              (one line; for scripts). Never give a value on the command line.
  list        the stored names, and each installed package's declared secrets: where they go and
              whether a value is provided. Never a value.
  rm NAME     removes a stored value.

Options:
  --package P  the value is for package P only (default: every package that declares NAME)
  --stdin      read the value from standard input instead of a terminal prompt
  --home DIR   home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --json       machine-readable output
  --help       show this help
`;

const OPTIONS = { ...HOME_OPTION, package: { type: 'string' }, stdin: { type: 'boolean' } } as const;
const MAX_VALUE = 16 * 1024;

async function readAll(input: Readable): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    if (text.length > MAX_VALUE + 2) throw new HostError('USAGE', `a secret value is at most ${MAX_VALUE} characters`);
  }
  return text.replace(/\r?\n$/, '');
}

async function askValue(io: CommandIO, name: string, fromStdin: boolean): Promise<string> {
  const input = io.stdin ?? process.stdin;
  if (fromStdin) return readAll(input);
  if (!(input as { isTTY?: boolean }).isTTY) throw new HostError('USAGE', 'no terminal to ask the value on; pipe it in with --stdin');
  try {
    const value = await read({ prompt: `Value of ${name} (not shown): `, silent: true, replace: '', input, output: io.stderr as NodeJS.WritableStream, terminal: true });
    io.stderr.write('\n');
    return value;
  } catch {
    throw new HostError('USAGE', 'the prompt was cancelled; nothing was stored');
  }
}

function checkName(name: string | undefined): string {
  if (name === undefined || !SECRET_NAME.test(name)) throw new HostError('SECRET_UNKNOWN', 'a secret name is upper case letters, digits and _ (starting with a letter), e.g. GITHUB_TOKEN');
  return name;
}

interface Declared {
  readonly package: string;
  readonly name: string;
  readonly hosts: readonly string[];
  readonly place: string;
}

/** The secrets the installed packages declare (a package that cannot be read is skipped: `list` shows it). */
async function declaredSecrets(home: Home): Promise<Declared[]> {
  const out: Declared[] = [];
  const lock = await readLock(home).catch(() => null);
  for (const entry of lock === null ? [] : installedPackages(lock)) {
    try {
      const pm = parsePackageManifest(JSON.parse(await readFile(join(home.dir, entry.dir, 'package.json'), 'utf8')));
      for (const [name, decl] of Object.entries(pm.manifest.capabilities.secrets ?? {})) {
        const place = decl.header ? { kind: 'header' as const, name: decl.header.name, format: decl.header.format ?? '{}' } : decl.query !== undefined ? { kind: 'query' as const, name: decl.query } : { kind: 'basic' as const, ...(decl.basic?.username === undefined ? {} : { username: decl.basic.username }) };
        out.push({ package: pm.name, name, hosts: decl.hosts, place: describeSecretPlace(place) });
      }
    } catch {
      // Not readable now: serve will refuse it loudly; list shows what it can.
    }
  }
  return out;
}

export const run = defineCommand('secret', USAGE, OPTIONS, async ({ values, positionals }, io, json) => {
  const [sub, ...rest] = positionals;
  const home = homeLayout(resolveHomeDir(values.home, io.env, io.cwd));
  const scope = values.package ?? ANY_PACKAGE;
  switch (sub) {
    case 'set': {
      if (rest.length !== 1) throw new HostError('USAGE', 'expected: secret set NAME (the value is asked for, never given on the command line)');
      const name = checkName(rest[0]);
      const config = await readConfig(home);
      const value = await askValue(io, name, values.stdin === true);
      if (value === '') throw new HostError('USAGE', 'an empty value; nothing was stored');
      if (value.length > MAX_VALUE || /[\r\n\0]/.test(value)) throw new HostError('USAGE', `a secret value is one line of at most ${MAX_VALUE} characters`);
      await ensureHome(home);
      const keyStore = await storeSecret(home, scope, name, value, config.secrets.keychain ? systemKeychain() : null);
      if (json) writeJson(io, { ok: true, name, package: values.package ?? null, key: keyStore });
      else io.stdout.write(`stored ${name}${values.package ? ` for ${values.package}` : ''} (key in ${keyStore === 'keychain' ? 'the OS keychain' : `${join(home.dir, 'secrets.key')}, mode 0600: no OS keychain reachable`})\n`);
      return 0;
    }
    case 'rm': {
      if (rest.length !== 1) throw new HostError('USAGE', 'expected: secret rm NAME');
      const name = checkName(rest[0]);
      await removeSecret(home, scope, name);
      if (json) writeJson(io, { ok: true, removed: name, package: values.package ?? null });
      else io.stdout.write(`removed ${name}${values.package ? ` for ${values.package}` : ''}\n`);
      return 0;
    }
    case 'list': {
      if (rest.length !== 0) throw new HostError('USAGE', 'expected: secret list');
      const config = await readConfig(home);
      const stored = await listStored(home);
      const declared = await declaredSecrets(home);
      const provided = (pkg: string, name: string): string | null =>
        stored.some((s) => s.name === name && s.scope === pkg) ? 'stored (this package)' : stored.some((s) => s.name === name && s.scope === ANY_PACKAGE) ? 'stored' : config.secrets.file !== null ? 'secrets file, if it has it' : config.secrets.fromEnv[name] !== undefined ? `environment ${config.secrets.fromEnv[name]}` : null;
      if (json) {
        writeJson(io, { ok: true, stored, declared: declared.map((d) => ({ ...d, provided: provided(d.package, d.name) })) });
        return 0;
      }
      io.stdout.write(stored.length === 0 ? 'no stored secrets\n' : `stored: ${stored.map((s) => (s.scope === ANY_PACKAGE ? s.name : `${s.name} (${s.scope})`)).join(', ')}\n`);
      for (const d of declared) io.stdout.write(`${d.package}: ${d.name} → ${d.hosts.join(', ')} as ${d.place}; value: ${provided(d.package, d.name) ?? 'NOT PROVIDED (mcp-warden secret set ' + d.name + ')'}\n`);
      return 0;
    }
    default:
      throw new HostError('USAGE', 'expected a subcommand: set, list or rm');
  }
});
