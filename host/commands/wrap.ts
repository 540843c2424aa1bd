/** `mcp-warden wrap NPM-SPEC|DIR --out DIR`: an existing MCP server made into an mcp-warden package (docs/wrapping.md). */
import { writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { HostError } from '../errors.ts';
import type { FsRequest } from '../manifest.ts';
import { readLock } from '../wrap/fetch.ts';
import { isDirectorySource, wrap } from '../wrap/wrap.ts';
import { defineCommand, writeJson } from './cli-support.ts';

export const USAGE = `Usage: mcp-warden wrap NPM-SPEC|DIR --out DIR [options]

Wraps an MCP server written with the TypeScript SDK into an mcp-warden package: fetches it and its
dependency tree from the npm registry (every tarball checked against its published integrity), or takes
a local directory; bundles it into one ES module with Node's built-ins replaced by sandbox shims; lists
its tools by running it in the sandbox; writes DIR/package.json (manifest with a "server" entry) and
DIR/server.js. Pack, sign, install and serve it like any package. What the server uses that cannot be
served (child processes, sockets, synchronous file access, native addons) is listed now, and fails
with UNSUPPORTED_API if a call reaches it.

Options:
  --out DIR             where to write the package (must not exist)
  --name NAME           the package's name (default: wrapped-<server name>)
  --fs SLOT:ACCESS[:DESCRIPTION]
                        a directory slot the user binds at install (ACCESS read or write); repeatable
  --net RULE            a network rule the server needs (host, host:port, URL prefix); repeatable
  --arg VALUE           an argument of the server; \${SLOT} is the directory bound to SLOT; repeatable
  --env NAME=VALUE      a variable of the server's environment (its only ones); \${SLOT} as above; repeatable
  --secret NAME=HEADER[:FORMAT]
                        a token the server reads from its variable NAME, kept by the host (docs/secrets.md):
                        declared as a secret bound to the --net rules and sent only in HEADER, as FORMAT
                        with {} for the value (default "{}"), e.g. --secret 'API_TOKEN=Authorization:Bearer {}';
                        the server sees a placeholder, never the value (set it with mcp-warden secret set NAME)
  --cwd VALUE           the server's working directory (\${SLOT}; default /)
  --memory-mb N, --cpu-ms N, --wall-ms N
                        per-call limits (default 128 MiB, 10000 ms CPU, 60000 ms wall: a first call starts the server)
  --lock FILE           fetch exactly the tree this lock pins (versions, integrity, places)
  --write-lock FILE     write the tree that was fetched as a lock
  --cache DIR           the tarball cache, by integrity (default ~/.cache/mcp-warden/wrap)
  --registry URL        the npm registry (default https://registry.npmjs.org)
  --offline             use only the cache
  --keep-tree DIR       keep the fetched tree in DIR (to run the server natively for comparison)
  --json                machine-readable output
  --help                show this help
`;

const OPTIONS = {
  out: { type: 'string' },
  name: { type: 'string' },
  fs: { type: 'string', multiple: true },
  net: { type: 'string', multiple: true },
  arg: { type: 'string', multiple: true },
  env: { type: 'string', multiple: true },
  secret: { type: 'string', multiple: true },
  cwd: { type: 'string' },
  'memory-mb': { type: 'string' },
  'cpu-ms': { type: 'string' },
  'wall-ms': { type: 'string' },
  lock: { type: 'string' },
  'write-lock': { type: 'string' },
  cache: { type: 'string' },
  registry: { type: 'string' },
  offline: { type: 'boolean' },
  'keep-tree': { type: 'string' },
} as const;

const SLOT = /^[a-z][a-z0-9_-]{0,31}$/;

function fsRequest(text: string): FsRequest {
  const [slot, access, ...rest] = text.split(':');
  if (slot === undefined || !SLOT.test(slot) || (access !== 'read' && access !== 'write')) throw new HostError('USAGE', `--fs ${text}: expected SLOT:read or SLOT:write (slot: lowercase letters, digits, - and _)`);
  const description = rest.join(':');
  return { slot, access, ...(description !== '' ? { description } : {}) };
}

function integer(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text)) throw new HostError('USAGE', `${flag} takes a whole number`);
  return Number(text);
}

export const run = defineCommand('wrap', USAGE, OPTIONS, async ({ values, positionals }, io, json) => {
  if (positionals.length !== 1) throw new HostError('USAGE', 'expected exactly one NPM-SPEC or directory');
  if (values.out === undefined) throw new HostError('USAGE', '--out DIR is required');
  const source = positionals[0] as string;
  const env: Record<string, string> = {};
  for (const e of values.env ?? []) {
    const eq = e.indexOf('=');
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(e.slice(0, eq))) throw new HostError('USAGE', `--env ${e.slice(0, 100)}: expected NAME=VALUE`);
    env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  const secrets: Record<string, { header: string; format: string }> = {};
  for (const e of values.secret ?? []) {
    const m = /^([A-Z][A-Z0-9_]{0,63})=([A-Za-z0-9!#$%&'*+.^_`|~-]{1,64})(?::(.*))?$/s.exec(e);
    const format = m?.[3] ?? '{}';
    if (!m || format.split('{}').length !== 2) throw new HostError('USAGE', `--secret ${e.slice(0, 100)}: expected NAME=HEADER[:FORMAT], NAME in capitals, FORMAT holding {} once`);
    if ((values.net ?? []).length === 0) throw new HostError('USAGE', '--secret needs the --net rules the secret may be sent to');
    const name = m[1] as string;
    secrets[name] = { header: m[2] as string, format };
    env[name] = `{{secret:${name}}}`;
  }
  const limits: Record<string, number> = {};
  for (const [flag, key] of [['memory-mb', 'memoryMb'], ['cpu-ms', 'cpuMs'], ['wall-ms', 'wallMs']] as const) {
    const n = integer(values[flag], `--${flag}`);
    if (n !== undefined) limits[key] = n;
  }
  const cache = resolve(io.cwd, values.cache ?? join(io.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'mcp-warden', 'wrap'));
  const report = await wrap({
    source: isDirectorySource(source) ? resolve(io.cwd, source) : source,
    out: resolve(io.cwd, values.out),
    ...(values.name !== undefined ? { name: values.name } : {}),
    fs: (values.fs ?? []).map(fsRequest),
    net: values.net ?? [],
    ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
    config: { argv: values.arg ?? [], env, cwd: values.cwd ?? '' },
    limits,
    cache,
    ...(values.registry !== undefined ? { registry: values.registry } : {}),
    ...(values.offline ? { offline: true } : {}),
    ...(values.lock !== undefined ? { lock: await readLock(resolve(io.cwd, values.lock)) } : {}),
    ...(values['keep-tree'] !== undefined ? { treeDir: resolve(io.cwd, values['keep-tree']) } : {}),
  });
  if (values['write-lock'] !== undefined && report.lock !== undefined) await writeFile(resolve(io.cwd, values['write-lock']), `${JSON.stringify(report.lock, null, 2)}\n`);
  if (json) {
    const { lock: _lock, ...rest } = report;
    writeJson(io, { ok: true, ...rest });
    return 0;
  }
  const lines = [
    `${report.name}@${report.version}: ${report.server.name}@${report.server.version} wrapped into ${report.out}`,
    `  tools:        ${report.tools.join(', ')}`,
    ...(report.prompts.length > 0 ? [`  prompts:      ${report.prompts.join(', ')} (forwarded to the server)`] : []),
    ...(report.resources.length > 0 ? [`  resources:    ${report.resources.length} (as resource templates, read by the server)`] : []),
    `  bundled:      ${report.dependencies.length} packages (${report.bundleBytes} bytes), each recorded with its version${isDirectorySource(source) ? '' : ' and integrity'}`,
  ];
  if (report.unsupportedApis.length > 0) lines.push(`  unsupported:  ${report.unsupportedApis.length} APIs fail with UNSUPPORTED_API if called: ${report.unsupportedApis.slice(0, 12).join(', ')}${report.unsupportedApis.length > 12 ? ', …' : ''}`);
  for (const m of report.unsupportedModules) lines.push(`  refused:      ${m.module} (imported by ${m.importers.slice(0, 3).join(', ')})`);
  for (const s of report.suggestions) lines.push(`  suggestion:   ${s}`);
  if (report.skippedOptional.length > 0) lines.push(`  not fetched:  optional ${report.skippedOptional.join(', ')}`);
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
});
