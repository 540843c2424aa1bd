/**
 * State across calls and limits are the user's choice too (issue 8, item 9): `grant NAME --fresh` gives
 * every call a fresh context, `grant NAME --limit KEY=N` lowers a limit, never above the manifest's.
 * Through the built CLI and the real sandbox.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { cliOk } from '../helpers/cli.ts';
import { CLI, childEnv, ensureBuilt, startHost, tempDir } from '../helpers/host.ts';
import { writeToolPackage } from '../helpers/tool-package.ts';
import type { HostHandle } from '../helpers/host.ts';
import { digestTree, writeSealedLock } from '../helpers/installed.ts';

const NAME = 'state-tools';
const DIR = `packages/${NAME}@1.0.0`;

const SOURCE = `export default {
  plant: () => { globalThis.planted = (globalThis.planted ?? 0) + 1; return String(globalThis.planted); },
  loop: () => { for (;;) {} },
  big: () => 'x'.repeat(4000),
};
`;

function writeInstalled(home: string): void {
  const dir = join(home, DIR);
  mkdirSync(dir, { recursive: true });
  const tools = ['plant', 'loop', 'big'].map((name) => ({ name, description: name, inputSchema: { type: 'object', additionalProperties: false } }));
  // The manifest asks for a long CPU time (a minute) and a large output: only the user's limits lower them.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: NAME, version: '1.0.0', mcpWarden: { entry: 'index.js', tools, limits: { cpuMs: 60_000, wallMs: 300_000 } } }));
  writeFileSync(join(dir, 'index.js'), SOURCE);
  const entry = { version: '1.0.0', integrity: 'sha512-test', dir: DIR, grant: { net: [], fs: [], slots: {} }, installedAt: new Date().toISOString(), files: digestTree(dir) };
  writeSealedLock(home, { [NAME]: entry });
}

function cli(home: string, ...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args, '--home', home], { env: childEnv(), encoding: 'utf8', input: '' });
}

async function call(h: HostHandle, tool: string): Promise<{ text: string; code?: string }> {
  const r = (await h.client.callTool({ name: `${NAME}__${tool}`, arguments: {} })) as CallToolResult;
  const text = r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
  const code = (r._meta?.['dev.mcp-warden/error'] as { code?: string } | undefined)?.code;
  return code ? { text, code } : { text };
}

beforeAll(() => ensureBuilt());

describe('a package\'s state across calls and its limits, as the user sets them', () => {
  it('keeps globals between calls by default, and not with grant --fresh; a lowered limit fires at the lower value', async () => {
    const home = tempDir('settings');
    writeInstalled(home);

    const before = await startHost({ home });
    try {
      // By default the context is warm: the second call sees what the first planted.
      expect((await call(before, 'plant')).text).toBe('1');
      expect((await call(before, 'plant')).text).toBe('2');
      expect((await call(before, 'big')).code).toBeUndefined();
    } finally {
      await before.close();
    }

    const granted = cli(home, 'grant', NAME, '--fresh', '--limit', 'cpuMs=300', '--limit', 'outputBytes=1000', '--json');
    expect(granted.stderr).toBe('');
    expect(granted.status).toBe(0);
    const lock = JSON.parse(readFileSync(join(home, 'lock.json'), 'utf8')) as { packages: Record<string, { settings?: unknown }> };
    expect(lock.packages[NAME]?.settings).toEqual({ fresh: true, limits: { cpuMs: 300, outputBytes: 1000 } });

    const after = await startHost({ home });
    try {
      // A fresh context per call: nothing planted survives.
      expect((await call(after, 'plant')).text).toBe('1');
      expect((await call(after, 'plant')).text).toBe('1');
      // The manifest's 60 s of CPU would never end within this test; the user's 300 ms does.
      expect((await call(after, 'loop')).code).toBe('SANDBOX_CPU_LIMIT');
      expect((await call(after, 'big')).code).toBe('OUTPUT_TOO_LARGE');
    } finally {
      await after.close();
    }

    // --no-fresh gives the manifest's choice back; the lowered limits stay.
    expect(cli(home, 'grant', NAME, '--no-fresh').status).toBe(0);
    expect((JSON.parse(readFileSync(join(home, 'lock.json'), 'utf8')) as { packages: Record<string, { settings?: unknown }> }).packages[NAME]?.settings).toEqual({ limits: { cpuMs: 300, outputBytes: 1000 } });
  }, 120_000);

  it('refuses a user limit above what the package runs with, or an unknown limit (USAGE), and leaves the lock as it was', () => {
    const home = tempDir('settings');
    writeInstalled(home);
    const lockBefore = readFileSync(join(home, 'lock.json'), 'utf8');
    const above = cli(home, 'grant', NAME, '--limit', 'cpuMs=60001');
    expect(above.status).toBe(2);
    expect(above.stderr).toMatch(/^mcp-warden grant: USAGE: --limit cpuMs=60001 is above what the package runs with \(60000\)/);
    // memoryMb: the manifest asks nothing, so the default (64) is the ceiling.
    expect(cli(home, 'grant', NAME, '--limit', 'memoryMb=65').status).toBe(2);
    expect(cli(home, 'grant', NAME, '--limit', 'bogus=1').stderr).toMatch(/USAGE: --limit: unknown limit "bogus"/);
    expect(readFileSync(join(home, 'lock.json'), 'utf8')).toBe(lockBefore);
  });

  it('keeps the user\'s settings when the package is updated by install', async () => {
    const work = tempDir('settings-update');
    const home = join(work, 'home');
    await cliOk(['keygen', '--out', 'k'], { cwd: work });
    await cliOk(['trust', 'add-key', 'k.pub', '--name', 'k', '--home', home], { cwd: work });
    const release = async (version: string) => {
      writeToolPackage(join(work, `pkg-${version}`), '@acme/echo', version);
      const packed = JSON.parse((await cliOk(['pack', `pkg-${version}`, '--out', 'dist', '--json'], { cwd: work })).stdout) as { file: string };
      await cliOk(['sign', packed.file, '--key', 'k.key'], { cwd: work });
      await cliOk(['install', packed.file, '--yes', '--home', home], { cwd: work });
    };
    await release('1.0.0');
    await cliOk(['grant', '@acme/echo', '--fresh', '--limit', 'cpuMs=500', '--home', home], { cwd: work });
    await release('1.0.1');
    const entry = (JSON.parse(readFileSync(join(home, 'lock.json'), 'utf8')) as { packages: Record<string, { version: string; settings?: unknown }> }).packages['@acme/echo'];
    expect(entry?.version).toBe('1.0.1');
    expect(entry?.settings).toEqual({ fresh: true, limits: { cpuMs: 500 } });
  }, 120_000);
});
