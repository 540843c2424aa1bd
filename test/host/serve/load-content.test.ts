/**
 * The loader's part of resources, prompts and icons: files come from the verified bytes (installed) or
 * from inside the package directory (--dev), size-capped; served names and URIs; conflicts.
 */
import { appendFileSync, cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { homeLayout } from '../../../host/home/home.ts';
import type { InstalledPackage } from '../../../host/home/home.ts';
import { verifyInstalled } from '../../../host/home/verify-installed.ts';
import { sealEntry } from '../../../host/home/seal.ts';
import { MAX_RESOURCE_FILE_BYTES } from '../../../host/manifest-content.ts';
import { loadAll, loadPackage } from '../../../host/serve/loader.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';
import { digestTree, trustedTestSigner } from '../../helpers/installed.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'packages', 'content');

function devDir(name: string, extra: Record<string, unknown>, files: Record<string, string | Buffer> = {}): string {
  const dir = tempDir('mcpw-content-');
  writeFileSync(join(dir, 'index.js'), 'export default { t: () => 1 };');
  for (const [p, data] of Object.entries(files)) writeFileSync(join(dir, p), data);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', mcpWarden: { entry: 'index.js', tools: [{ name: 't', description: 'T.', inputSchema: { type: 'object' } }], ...extra } }));
  return dir;
}

const dev = (dir: string) => ({ kind: 'dev' as const, dir, grantOverrides: { slots: {} } });
const options = () => ({ home: homeLayout(tempDir('mcpw-content-home-')), verify: verifyInstalled });

/** The content fixture installed into a fresh home under `name` (sealed, digests recorded). */
function installFixture(home: ReturnType<typeof homeLayout>, name: string): InstalledPackage {
  const dir = join(home.packagesDir, `${name}@1.0.0`);
  mkdirSync(home.packagesDir, { recursive: true });
  cpSync(FIXTURE, dir, { recursive: true });
  const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  pj.name = name;
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pj));
  const { signer, sealKey } = trustedTestSigner(home.dir);
  const entry = { version: '1.0.0', integrity: 'sha512-x', signer, dir: `packages/${name}@1.0.0`, grant: { net: [], fs: [], slots: {} }, installedAt: '2026-01-01T00:00:00Z', files: digestTree(dir) };
  return { name, ...sealEntry(sealKey, name, entry) };
}

describe('loading resources and icons', () => {
  it('an installed package serves its resource files from the verified bytes', async () => {
    const opts = options();
    const pkg = await loadPackage({ kind: 'installed', entry: installFixture(opts.home, 'content-fixture') }, opts);
    expect(pkg.resources.map((r) => [r.uri, r.data.toString('latin1').slice(0, 17)])).toEqual([
      ['mcp-warden://content-fixture/docs://readme', '# Content fixture'],
      ['mcp-warden://content-fixture/img://logo', '\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR'],
    ]);
    expect(pkg.prompts.map((p) => p.fullName)).toEqual(['content-fixture__summarize', 'content-fixture__dynamic']);
  });

  it.each([
    ['its resource file', 'README.md'],
    ['its icon', 'logo.png'],
  ])('an installed package whose %s was changed after install is refused (INTEGRITY_MISMATCH)', async (_what, file) => {
    const opts = options();
    const entry = installFixture(opts.home, 'content-fixture');
    appendFileSync(join(opts.home.packagesDir, 'content-fixture@1.0.0', file), 'tampered');
    expect(await asyncCodeOf(() => loadPackage({ kind: 'installed', entry }, opts))).toBe('INTEGRITY_MISMATCH');
  });

  it('a --dev resource file that is a symlink out of the package is refused, naming the field', async () => {
    const outside = join(tempDir('mcpw-outside-'), 'secret.txt');
    writeFileSync(outside, 'secret');
    const dir = devDir('leaky', { resources: [{ name: 'r', uri: 'x://r', file: 'link.txt' }] });
    symlinkSync(outside, join(dir, 'link.txt'));
    await expect(loadPackage(dev(dir), options())).rejects.toMatchObject({ code: 'MANIFEST_INVALID', message: expect.stringContaining('mcpWarden.resources[0].file "link.txt" resolves outside the package') });
  });

  it.each([
    ['a missing resource file', { resources: [{ name: 'r', uri: 'x://r', file: 'nope.txt' }] }, {}, 'mcpWarden.resources[0].file'],
    ['an oversized resource file', { resources: [{ name: 'r', uri: 'x://r', file: 'big.txt' }] }, { 'big.txt': Buffer.alloc(MAX_RESOURCE_FILE_BYTES + 1) }, 'larger than'],
    ['resources adding up to more than 32 MiB', { resources: Array.from({ length: 9 }, (_, i) => ({ name: `r${i}`, uri: `x://${i}`, file: 'big.txt' })) }, { 'big.txt': Buffer.alloc(MAX_RESOURCE_FILE_BYTES) }, 'mcpWarden.resources[8].file'],
    ['an oversized icon file', { prompts: [{ name: 'p', handler: 'h', icons: [{ src: 'i.png' }] }] }, { 'i.png': Buffer.alloc(64 * 1024 + 1) }, 'mcpWarden.prompts[0].icons[0].src'],
  ])('refuses %s (MANIFEST_INVALID)', async (_what, extra, files, field) => {
    await expect(loadPackage(dev(devDir('p', extra, files)), options())).rejects.toMatchObject({ code: 'MANIFEST_INVALID', message: expect.stringContaining(field) });
  });

  it('serves icons as data: URIs, never as paths', async () => {
    const pkg = await loadPackage(dev(FIXTURE), options());
    const icons = [...(pkg.tools[0]?.icons ?? []), ...(pkg.resources[0]?.icons ?? []), ...(pkg.prompts[1]?.icons ?? [])];
    expect(icons).toHaveLength(3);
    for (const i of icons) expect(i.src).toMatch(/^data:image\/png;base64,/);
  });

  it('with prefix: false, names and URIs are the package\'s own', async () => {
    const pkg = await loadPackage(dev(FIXTURE), { ...options(), prefix: false });
    expect(pkg.tools.map((t) => t.fullName)).toEqual(['hello']);
    expect(pkg.prompts.map((p) => p.fullName)).toEqual(['summarize', 'dynamic']);
    expect(pkg.resources[0]?.uri).toBe('docs://readme');
    expect(pkg.resourceTemplates[0]?.uriTemplate).toBe('notes://{id}');
  });
});

describe('conflicts', () => {
  it('two installed packages folding to one namespace with the same tool are refused for the tool first (TOOL_NAME_CONFLICT)', async () => {
    const opts = options();
    const a = installFixture(opts.home, 'content_fixture');
    const b = installFixture(opts.home, 'content-fixture');
    // Both serve tool "hello" as content-fixture__hello, and the same prompts and URI space: the tool clash is reported.
    const r = await loadAll([{ kind: 'installed', entry: a }, { kind: 'installed', entry: b }], opts);
    expect(r.packages).toEqual([]);
    expect(r.refused.map((x) => x.code)).toEqual(['TOOL_NAME_CONFLICT', 'TOOL_NAME_CONFLICT']);
  });

  it('a prompt name or URI space claimed by two installed packages refuses both (SERVED_NAME_CONFLICT)', async () => {
    const opts = options();
    const a = installFixture(opts.home, 'content_fixture');
    const b = installFixture(opts.home, 'content-fixture');
    // Make their tools differ so only the prompts and URIs clash.
    const dir = join(opts.home.packagesDir, `${b.name}@1.0.0`);
    const pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    pj.mcpWarden.tools[0].name = 'hello2';
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pj));
    const { signer, sealKey } = trustedTestSigner(opts.home.dir);
    const { name, seal: _seal, ...rest } = b;
    const resealed = { name, ...sealEntry(sealKey, name, { ...rest, signer, files: digestTree(join(opts.home.packagesDir, `${name}@1.0.0`)) }) };
    const r = await loadAll([{ kind: 'installed', entry: a }, { kind: 'installed', entry: resealed }], opts);
    expect(r.packages).toEqual([]);
    expect(r.refused.map((x) => x.code)).toEqual(['SERVED_NAME_CONFLICT', 'SERVED_NAME_CONFLICT']);
    expect(r.refused[0]?.message).toMatch(/prompt name "content-fixture__summarize" is also claimed by content-fixture/);
  });

  it('a --dev package cannot take an installed package\'s URI space (PACKAGE_CONFLICT)', async () => {
    const opts = options();
    const installed = installFixture(opts.home, 'content-fixture');
    const r = await loadAll([{ kind: 'installed', entry: installed }, dev(devDir('content_fixture', { resources: [{ name: 'x', uri: 'docs://x', file: 'index.js' }] }))], opts);
    expect(r.packages.map((p) => p.name)).toEqual(['content-fixture']);
    expect(r.refused).toEqual([expect.objectContaining({ code: 'PACKAGE_CONFLICT', message: expect.stringContaining('resource URIs under "mcp-warden://content-fixture/"') })]);
  });
});
