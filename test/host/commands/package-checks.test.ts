/**
 * `pack` and `install` apply the same checks as `serve` (issue 8, items 15–17): capability rules are
 * parsed with the manifest, versions are real semantic versions, and one set of size limits
 * (host/pack/limits.ts) applies to all three. A package refused at serve is refused at pack and install,
 * with the documented code, never INTERNAL.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as install from '../../../host/commands/install.ts';
import * as packCommand from '../../../host/commands/pack.ts';
import { PACKAGE_LIMITS } from '../../../host/pack/limits.ts';
import { publicKeyPem } from '../../../host/signing/keys.ts';
import { parsePublisher, saveTrustPolicy } from '../../../host/trust/policy.ts';
import { rawTarball, signAnything, writeEchoPackage, writeSigned } from '../../helpers/install-fixtures.ts';
import { runCommandModule } from '../../helpers/run-command.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const acme = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let work: string;
let home: string;

beforeAll(async () => {
  work = tempDir('mcpw-checks-');
  home = join(work, 'home');
  await saveTrustPolicy(join(home, 'trust.json'), { publishers: [parsePublisher({ name: 'acme', kind: 'key', publicKeyPem: publicKeyPem(acme.publicKey) })] });
});

type Json = { ok: boolean; error?: { code: string; message: string } };

async function packDir(dir: string): Promise<{ code: number; json: Json }> {
  const r = await runCommandModule(packCommand, [dir, '--out', tempDir(), '--json'], { cwd: work });
  return { code: r.code, json: JSON.parse(r.stdout) as Json };
}

/** Installs a hand-made tarball, validly signed (an attacker's signer checks nothing). */
async function installRaw(name: string, version: string, entries: { path: string; data?: string; type?: string }[]): Promise<{ code: number; json: Json }> {
  const t = rawTarball(entries);
  const file = writeSigned(work, `${name.replace(/\W/g, '-')}-${Math.random().toString(16).slice(2)}.tgz`, t, signAnything(t, name, version, acme.privateKey));
  const r = await runCommandModule(install, [file, '--home', home, '--yes', '--json'], { cwd: work });
  return { code: r.code, json: JSON.parse(r.stdout) as Json };
}

function manifestJson(name: string, version: string, extra: { net?: unknown[]; fs?: unknown[]; entry?: string; pad?: number } = {}): string {
  return JSON.stringify({
    name,
    version,
    ...(extra.pad ? { description: 'x'.repeat(extra.pad) } : {}),
    mcpWarden: {
      entry: extra.entry ?? 'index.js',
      tools: [{ name: 'echo', description: 'Echoes.', inputSchema: { type: 'object' } }],
      capabilities: { net: extra.net ?? [], fs: extra.fs ?? [] },
    },
  });
}

const CODE = 'export default { echo: () => "hi" };\n';

describe('capability rules are parsed with the manifest (item 15)', () => {
  it.each([['*.com'], ['https://evil.com/path?q']])('pack refuses the net rule %s with MANIFEST_INVALID naming it', async (rule) => {
    const r = await packDir(writeEchoPackage('@acme/rules', '1.0.0', { net: [rule] }));
    expect(r.code).toBe(1);
    expect(r.json.error?.code).toBe('MANIFEST_INVALID');
    expect(r.json.error?.message).toContain(rule);
  });

  it.each([['*.com', 'a'], ['https://evil.com/path?q', 'b']])('install refuses the net rule %s with MANIFEST_INVALID naming it', async (rule, suffix) => {
    const name = `@acme/rules-${suffix}`;
    const r = await installRaw(name, '1.0.0', [
      { path: 'package/package.json', data: manifestJson(name, '1.0.0', { net: [rule] }) },
      { path: 'package/index.js', data: CODE },
    ]);
    expect(r.code).toBe(1);
    expect(r.json.error?.code).toBe('MANIFEST_INVALID');
    expect(r.json.error?.message).toContain(rule);
  });

  it('pack refuses a fixed-path fs rule with a NUL byte (the schema alone accepts it) with MANIFEST_INVALID', async () => {
    const r = await packDir(writeEchoPackage('@acme/rules', '1.0.0', { fs: ['read:/tmp/a\0b'] }));
    expect(r.json.error?.code).toBe('MANIFEST_INVALID');
    expect(r.json.error?.message).toContain('capabilities.fs[0]');
  });
});

describe('versions are semantic versions (item 16)', () => {
  it('pack refuses 1.0.01 with MANIFEST_INVALID', async () => {
    const r = await packDir(writeEchoPackage('@acme/ver', '1.0.01'));
    expect(r.code).toBe(1);
    expect(r.json.error?.code).toBe('MANIFEST_INVALID');
  });

  it('install refuses 1.0.01 with MANIFEST_INVALID, never INTERNAL', async () => {
    const r = await installRaw('@acme/ver', '1.0.01', [
      { path: 'package/package.json', data: manifestJson('@acme/ver', '1.0.01') },
      { path: 'package/index.js', data: CODE },
    ]);
    expect(r.code).toBe(1);
    expect(r.json.error?.code).toBe('MANIFEST_INVALID');
  });
});

describe('pack, install and serve share one set of limits (item 17)', () => {
  it('pack refuses an entry that is a directory (PACKAGE_INVALID)', async () => {
    const dir = writeEchoPackage('@acme/dirent', '1.0.0', { entry: 'lib.js' });
    mkdirSync(join(dir, 'lib.js'));
    writeFileSync(join(dir, 'lib.js', 'a.js'), CODE);
    const r = await packDir(dir);
    expect(r.json.error?.code).toBe('PACKAGE_INVALID');
    expect(r.json.error?.message).toMatch(/not a file/);
  });

  it('install refuses an entry that is a directory (PACKAGE_INVALID)', async () => {
    const r = await installRaw('@acme/dirent', '1.0.0', [
      { path: 'package/package.json', data: manifestJson('@acme/dirent', '1.0.0', { entry: 'lib.js' }) },
      { path: 'package/lib.js/', type: '5' },
      { path: 'package/lib.js/a.js', data: CODE },
    ]);
    expect(r.json.error?.code).toBe('PACKAGE_INVALID');
  });

  const bigEntry = `export default {};\n//${'x'.repeat(9 * 1024 * 1024)}\n`;
  it('pack refuses a 9 MiB entry (PACKAGE_INVALID)', async () => {
    expect(bigEntry.length).toBeGreaterThan(PACKAGE_LIMITS.maxEntryBytes);
    const dir = writeEchoPackage('@acme/bigentry', '1.0.0', { code: bigEntry });
    const r = await packDir(dir);
    expect(r.json.error?.code).toBe('PACKAGE_INVALID');
    expect(r.json.error?.message).toMatch(/entry file is larger than/);
  });

  it('install refuses a 9 MiB entry (PACKAGE_INVALID)', async () => {
    const r = await installRaw('@acme/bigentry', '1.0.0', [
      { path: 'package/package.json', data: manifestJson('@acme/bigentry', '1.0.0') },
      { path: 'package/index.js', data: bigEntry },
    ]);
    expect(r.json.error?.code).toBe('PACKAGE_INVALID');
    expect(r.json.error?.message).toMatch(/entry file is larger than/);
  });

  const pad = 10 * 1024 * 1024;
  it('pack refuses a 10 MiB package.json (PACKAGE_INVALID)', async () => {
    const dir = writeEchoPackage('@acme/bigjson', '1.0.0');
    writeFileSync(join(dir, 'package.json'), manifestJson('@acme/bigjson', '1.0.0', { pad }));
    const r = await packDir(dir);
    expect(r.json.error?.code).toBe('PACKAGE_INVALID');
    expect(r.json.error?.message).toMatch(/package\.json is larger than/);
  });

  it('install refuses a 10 MiB package.json (PACKAGE_INVALID)', async () => {
    const r = await installRaw('@acme/bigjson', '1.0.0', [
      { path: 'package/package.json', data: manifestJson('@acme/bigjson', '1.0.0', { pad }) },
      { path: 'package/index.js', data: CODE },
    ]);
    expect(r.json.error?.code).toBe('PACKAGE_INVALID');
    expect(r.json.error?.message).toMatch(/package\.json is larger than/);
  });
});
