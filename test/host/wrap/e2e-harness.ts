/**
 * What the wrap end-to-end tests share (test/e2e/wrap-*.test.ts): wrap a real server from the npm
 * registry through the built CLI, pinned by a lock under test/fixtures/wrap/ (versions, integrity,
 * places) with its tarballs in a git-ignored cache keyed by integrity (test/fixtures/wrap/.cache, pacote's
 * cache: the first run fetches them, later runs read them; every tarball is checked against the lock's
 * integrity either way); then pack, sign with a test key, trust it, install, serve over stdio; and run
 * the same server natively (node + its bin from the same fetched tree) to compare answers.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { cliOk } from '../../helpers/cli.ts';
import { ROOT, childEnv, startHost, tempDir } from '../../helpers/host.ts';
import type { HostHandle } from '../../helpers/host.ts';

export const WRAP_FIXTURES = join(ROOT, 'test', 'fixtures', 'wrap');
export const WRAP_CACHE = join(WRAP_FIXTURES, '.cache');

export interface WrapTarget {
  /** npm spec pinned to a version. */
  readonly spec: string;
  /** test/fixtures/wrap/<lock>.lock.json (written on the first run when missing); none for a directory. */
  readonly lock?: string;
  /** wrap flags besides the source, --out and the lock/cache ones. */
  readonly wrapArgs?: readonly string[];
  /** install --grant SLOT=DIR values, DIR relative to the work directory (created). */
  readonly grants?: Readonly<Record<string, string>>;
}

export interface Wrapped {
  readonly work: string;
  readonly home: string;
  readonly name: string;
  readonly tools: readonly string[];
  readonly mainFile: string;
  readonly report: Record<string, unknown>;
  /** The granted directories, absolute, by slot. */
  readonly dirs: Readonly<Record<string, string>>;
}

/** What the wrap step needs of the environment to reach the registry on a first run (proxies, extra CAs). */
function registryEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['NODE_EXTRA_CA_CERTS', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) {
    const v = process.env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Wraps, packs, signs (test key), trusts, installs. */
export async function wrapAndInstall(t: WrapTarget, label: string): Promise<Wrapped> {
  const work = tempDir(`wrap-${label}`);
  const home = join(work, 'home');
  mkdirSync(WRAP_CACHE, { recursive: true });
  const lockFile = t.lock === undefined ? undefined : join(WRAP_FIXTURES, `${t.lock}.lock.json`);
  const pinned = lockFile === undefined ? [] : existsSync(lockFile) ? ['--lock', lockFile] : ['--write-lock', lockFile];
  const wrapped = await cliOk(['wrap', t.spec, '--out', 'pkg', '--cache', WRAP_CACHE, '--keep-tree', 'tree', ...pinned, ...(t.wrapArgs ?? []), '--json'], { cwd: work, env: registryEnv() });
  const report = JSON.parse(wrapped.stdout) as Record<string, unknown> & { name: string; tools: string[]; mainFile: string };
  const packed = JSON.parse((await cliOk(['pack', 'pkg', '--out', 'dist', '--json'], { cwd: work })).stdout) as { file: string };
  await cliOk(['keygen', '--out', 'test-key'], { cwd: work });
  await cliOk(['sign', packed.file, '--key', 'test-key.key'], { cwd: work });
  await cliOk(['trust', 'add-key', 'test-key.pub', '--name', 'test', '--scope', report.name, '--home', home], { cwd: work });
  const dirs: Record<string, string> = {};
  const grantArgs: string[] = [];
  for (const [slot, dir] of Object.entries(t.grants ?? {})) {
    dirs[slot] = join(work, dir);
    mkdirSync(dirs[slot], { recursive: true });
    grantArgs.push('--grant', `${slot}=${dirs[slot]}`);
  }
  await cliOk(['install', packed.file, '--yes', '--accept-findings', ...grantArgs, '--home', home, '--json'], { cwd: work });
  return { work, home, name: report.name, tools: report.tools, mainFile: report.mainFile, report, dirs };
}

export async function serveWrapped(w: Wrapped): Promise<HostHandle> {
  return startHost({ home: w.home });
}

export interface NativeServer {
  readonly client: Client;
  close(): Promise<void>;
}

/** The same server run natively over stdio: node + its bin from the fetched tree. */
export async function startNative(mainFile: string, args: readonly string[], env: Record<string, string> = {}): Promise<NativeServer> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [mainFile, ...args], env: childEnv(env), stderr: 'pipe' });
  transport.stderr?.on('data', () => {});
  const client = new Client({ name: 'mcp-warden-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, close: async () => { await client.close().catch(() => {}); } };
}

/** The text of each content block (what the comparisons look at). */
export function texts(r: CallToolResult): string[] {
  return r.content.map((c) => (c.type === 'text' ? c.text : JSON.stringify(c)));
}
