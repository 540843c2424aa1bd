/**
 * `pack` and `install` refuse what `serve` would refuse in what a package serves besides tools (issue 9):
 * a resource file or icon the manifest names that is not in the package or is over its cap
 * (MANIFEST_INVALID naming the field, one line, nothing written), and, at install, a prompt name or
 * resource URI space another installed package already serves (SERVED_NAME_CONFLICT, home unchanged).
 * The checks are serve's own (host/serve/load-content.ts, host/serve/loader.ts servedClaims' keys).
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as install from '../../../host/commands/install.ts';
import * as packCommand from '../../../host/commands/pack.ts';
import { homeLayout } from '../../../host/home/home.ts';
import { claimsOf } from '../../../host/install/conflicts.ts';
import { parsePackageManifest } from '../../../host/manifest.ts';
import { MAX_ICON_BYTES, MAX_RESOURCE_FILE_BYTES } from '../../../host/manifest-content.ts';
import { checkContentFiles, loadContent } from '../../../host/serve/load-content.ts';
import { loadPackage, servedClaims } from '../../../host/serve/loader.ts';
import { verifyInstalled } from '../../../host/home/verify-installed.ts';
import { packToBuffer } from '../../../host/pack/pack.ts';
import { readTarball } from '../../../host/pack/extract.ts';
import { publicKeyPem } from '../../../host/signing/keys.ts';
import { parsePublisher, saveTrustPolicy } from '../../../host/trust/policy.ts';
import { rawTarball, signAnything, signedWithKey, snapshotHome, writeSigned } from '../../helpers/install-fixtures.ts';
import { runCommandModule } from '../../helpers/run-command.ts';
import { EXAMPLES, FIXTURES } from '../../helpers/host.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const acme = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let work: string;
let home: string;

beforeAll(async () => {
  work = tempDir('mcpw-content-checks-');
  home = join(work, 'home');
  await saveTrustPolicy(join(home, 'trust.json'), { publishers: [parsePublisher({ name: 'acme', kind: 'key', publicKeyPem: publicKeyPem(acme.publicKey) })] });
});

type Json = { ok: boolean; error?: { code: string; message: string } };
const CODE = 'export default { one: () => "1", two: () => "2" };\nexport const resources = { r: () => "r" };\nexport const prompts = { p: () => ({ messages: [] }) };\n';

interface Content {
  readonly tool?: string;
  readonly toolIcon?: string;
  readonly resources?: readonly { name: string; uri: string; file: string }[];
  readonly resourceTemplates?: readonly { name: string; uriTemplate: string; handler: string }[];
  readonly prompts?: readonly { name: string; messages: { role: string; text: string }[]; icons?: { src: string }[] }[];
}

function manifestJson(name: string, c: Content): string {
  return JSON.stringify({
    name,
    version: '1.0.0',
    mcpWarden: {
      entry: 'index.js',
      tools: [{ name: c.tool ?? 'one', description: 'A tool.', inputSchema: { type: 'object' }, ...(c.toolIcon ? { icons: [{ src: c.toolIcon }] } : {}) }],
      ...(c.resources ? { resources: c.resources } : {}),
      ...(c.resourceTemplates ? { resourceTemplates: c.resourceTemplates } : {}),
      ...(c.prompts ? { prompts: c.prompts } : {}),
    },
  });
}

/** A package directory with `files` beside package.json and index.js. */
function writePackage(name: string, c: Content, files: Record<string, string | Buffer> = {}): string {
  const dir = tempDir('mcpw-content-pkg-');
  writeFileSync(join(dir, 'package.json'), manifestJson(name, c));
  writeFileSync(join(dir, 'index.js'), CODE);
  for (const [rel, data] of Object.entries(files)) writeFileSync(join(dir, rel), data);
  return dir;
}

async function packDir(dir: string, out = tempDir('mcpw-content-out-')): Promise<{ code: number; json: Json; stderr: string }> {
  const r = await runCommandModule(packCommand, [dir, '--out', out, '--json'], { cwd: work });
  const plain = await runCommandModule(packCommand, [dir, '--out', out], { cwd: work });
  return { code: r.code, json: JSON.parse(r.stdout) as Json, stderr: plain.stderr };
}

async function installFile(file: string): Promise<{ code: number; json: Json }> {
  const r = await runCommandModule(install, [file, '--home', home, '--yes', '--json'], { cwd: work });
  return { code: r.code, json: JSON.parse(r.stdout) as Json };
}

/** Installs a hand-made tarball, validly signed (an attacker's signer checks nothing). */
function installRaw(name: string, c: Content, files: Record<string, string> = {}): Promise<{ code: number; json: Json }> {
  const t = rawTarball([
    { path: 'package/package.json', data: manifestJson(name, c) },
    { path: 'package/index.js', data: CODE },
    ...Object.entries(files).map(([rel, data]) => ({ path: `package/${rel}`, data })),
  ]);
  return installFile(writeSigned(work, `${name.replace(/\W/g, '-')}-${Math.random().toString(16).slice(2)}.tgz`, t, signAnything(t, name, '1.0.0', acme.privateKey)));
}

/** Packs, signs and installs a package directory. */
async function installPacked(name: string, c: Content, files: Record<string, string> = {}): Promise<{ code: number; json: Json }> {
  const { data } = await packToBuffer(writePackage(name, c, files));
  return installFile(writeSigned(work, `${name.replace(/\W/g, '-')}-${Math.random().toString(16).slice(2)}.tgz`, data, signedWithKey(data, acme.privateKey)));
}

/** Expects a refusal with `code` whose one-line message names `field`, and the home exactly as before. */
async function expectInstallRefused(run: () => Promise<{ code: number; json: Json }>, code: string, field: string): Promise<void> {
  const before = snapshotHome(home);
  const r = await run();
  expect(r.code).toBe(1);
  expect(r.json.error?.code).toBe(code);
  expect(r.json.error?.message).toContain(field);
  expect(r.json.error?.message).not.toContain('\n');
  expect(snapshotHome(home)).toEqual(before);
}

const readme = (file: string) => ({ resources: [{ name: 'readme', uri: 'docs://readme', file }] });
const bigIcon = Buffer.alloc(MAX_ICON_BYTES + 1, 1);
const bigResource = 'r'.repeat(MAX_RESOURCE_FILE_BYTES + 1);

describe("pack's and install's check is serve's", () => {
  it.each([
    ['a resource file that is not in the package', readme('MISSING.md'), {}],
    ['a resource file over its cap', readme('BIG.md'), { 'BIG.md': bigResource }],
    ['resource files over the total', { resources: Array.from({ length: 9 }, (_, i) => ({ name: `r${i}`, uri: `r://${i}`, file: 'R.md' })) }, { 'R.md': 'r'.repeat(MAX_RESOURCE_FILE_BYTES) }],
    ['a tool icon that is not in the package', { toolIcon: 'nowhere.png' }, {}],
    ['a prompt icon over its cap', { prompts: [{ name: 'p', messages: [{ role: 'user', text: 'x' }], icons: [{ src: 'big.png' }] }] }, { 'big.png': bigIcon }],
  ])('refuses %s with the message serve gives when it loads the same files', async (_what, content, files) => {
    const pm = parsePackageManifest(JSON.parse(manifestJson('@acme/same', content as Content)));
    const verified = new Map(Object.entries(files as Record<string, string | Buffer>).map(([rel, data]) => [rel, Buffer.from(data)]));
    const sizes = new Map([...verified].map(([rel, data]) => [rel, data.length]));
    let fromCheck: unknown;
    try {
      checkContentFiles(pm, sizes, 'pkg');
    } catch (e) {
      fromCheck = e;
    }
    const fromServe = await loadContent(pm, { verified }, true, 'pkg').then(() => undefined, (e: unknown) => e);
    expect(fromCheck).toMatchObject({ code: 'MANIFEST_INVALID' });
    expect((fromCheck as Error).message).toBe((fromServe as Error).message);
  });

  it("claims the names and URI spaces serve's conflict check claims", async () => {
    for (const dir of [join(FIXTURES, 'content'), join(EXAMPLES, 'notes'), join(FIXTURES, 'greeter')]) {
      const loaded = await loadPackage({ kind: 'dev', dir, grantOverrides: { slots: {} } }, { home: homeLayout(tempDir('mcpw-claims-')), verify: verifyInstalled });
      const pm = parsePackageManifest(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')));
      expect(claimsOf(pm).map((c) => c.key).sort()).toEqual(servedClaims(loaded).map((c) => c.key).sort());
    }
  });
});

describe('pack and the files a manifest names', () => {
  it('packs the resource files and icons the manifest names, as it packs the entry (the notes example)', async () => {
    const { files } = await packToBuffer(join(EXAMPLES, 'notes'));
    expect(files).toEqual(expect.arrayContaining(['GUIDE.md', 'icon.png', 'index.js', 'package.json']));
    expect(readTarball((await packToBuffer(join(EXAMPLES, 'notes'))).data).map((f) => f.path)).toContain('GUIDE.md');
  });

  it.each([
    ['a resource file that is not in the package', readme('MISSING.md'), {}, 'mcpWarden.resources[0].file "MISSING.md" is not a file of the package'],
    ['a resource file over its cap', readme('BIG.md'), { 'BIG.md': bigResource }, `mcpWarden.resources[0].file "BIG.md" is larger than ${MAX_RESOURCE_FILE_BYTES} bytes`],
    ['a tool icon that is not in the package', { toolIcon: 'nowhere.png' }, {}, 'mcpWarden.tools[0].icons[0].src "nowhere.png" is not a file of the package'],
    ['a prompt icon over its cap', { prompts: [{ name: 'p', messages: [{ role: 'user', text: 'x' }], icons: [{ src: 'big.png' }] }] }, { 'big.png': bigIcon }, `mcpWarden.prompts[0].icons[0].src "big.png" is larger than ${MAX_ICON_BYTES} bytes`],
  ])('refuses %s: MANIFEST_INVALID naming the field, one line, nothing written', async (_what, content, files, message) => {
    const out = tempDir('mcpw-content-out-');
    const r = await packDir(writePackage('@acme/content', content as Content, files), out);
    expect(r.code).toBe(1);
    expect(r.json.error).toMatchObject({ code: 'MANIFEST_INVALID', message: expect.stringContaining(message) });
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^mcp-warden pack: MANIFEST_INVALID: .*mcpWarden\./)]);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('install and the files a manifest names', () => {
  let raw = 0;
  it.each([
    ['a resource file that is not in the package', readme('MISSING.md'), {}, 'mcpWarden.resources[0].file "MISSING.md" is not a file of the package'],
    ['a resource file over its cap', readme('BIG.md'), { 'BIG.md': bigResource }, 'mcpWarden.resources[0].file "BIG.md" is larger than'],
    ['a tool icon that is not in the package', { toolIcon: 'nowhere.png' }, {}, 'mcpWarden.tools[0].icons[0].src "nowhere.png" is not a file of the package'],
    ['a prompt icon over its cap', { prompts: [{ name: 'p', messages: [{ role: 'user', text: 'x' }], icons: [{ src: 'big.png' }] }] }, { 'big.png': 'i'.repeat(MAX_ICON_BYTES + 1) }, 'mcpWarden.prompts[0].icons[0].src "big.png" is larger than'],
  ])('refuses %s, even validly signed: MANIFEST_INVALID naming the field, home unchanged', async (_what, content, files, field) => {
    await expectInstallRefused(() => installRaw(`@acme/content-raw-${++raw}`, content as Content, files), 'MANIFEST_INVALID', field);
  });

  it('installs a package whose named files are present and within their caps', async () => {
    const r = await installPacked('@acme/content-ok', { ...readme('README.md'), toolIcon: 'icon.png' }, { 'README.md': '# hi\n', 'icon.png': 'png' });
    expect(r.json).toMatchObject({ ok: true, name: '@acme/content-ok' });
  });
});

describe('install refuses a prompt name or a resource URI space another installed package serves', () => {
  // "@acme/served-x" and "@acme/served_x" (and "@acme/served.x") fold to one namespace: acme.served-x.
  const prompt = { prompts: [{ name: 'p', messages: [{ role: 'user', text: 'x' }] }] };

  it('a prompt name (SERVED_NAME_CONFLICT), home unchanged', async () => {
    expect((await installPacked('@acme/prompt-x', { tool: 'one', ...prompt })).json).toMatchObject({ ok: true });
    await expectInstallRefused(() => installPacked('@acme/prompt_x', { tool: 'two', ...prompt }), 'SERVED_NAME_CONFLICT', 'prompt name "acme.prompt-x__p"');
  });

  it('a resource URI space (SERVED_NAME_CONFLICT), home unchanged; a package of that namespace serving no resources installs', async () => {
    expect((await installPacked('@acme/uri-x', { tool: 'one', ...readme('README.md') }, { 'README.md': '# x\n' })).json).toMatchObject({ ok: true });
    await expectInstallRefused(() => installPacked('@acme/uri_x', { tool: 'two', resourceTemplates: [{ name: 'r', uriTemplate: 'other://{id}', handler: 'r' }] }), 'SERVED_NAME_CONFLICT', 'resource URIs under "mcp-warden://acme.uri-x/"');
    expect((await installPacked('@acme/uri.x', { tool: 'three' })).json).toMatchObject({ ok: true });
  });

  it('a tool name still comes first (TOOL_NAME_CONFLICT), and an update of the package itself is no conflict', async () => {
    expect((await installPacked('@acme/both-x', { tool: 'one', ...prompt })).json).toMatchObject({ ok: true });
    await expectInstallRefused(() => installPacked('@acme/both_x', { tool: 'one', ...prompt }), 'TOOL_NAME_CONFLICT', 'acme.both-x__one');
    const update = await runCommandModule(install, [await (async () => {
      const dir = writePackage('@acme/both-x', { tool: 'one', ...prompt });
      const pkg = JSON.parse(manifestJson('@acme/both-x', { tool: 'one', ...prompt })) as Record<string, unknown>;
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...pkg, version: '1.1.0' }));
      const { data } = await packToBuffer(dir);
      return writeSigned(work, 'both-x-1.1.0.tgz', data, signedWithKey(data, acme.privateKey));
    })(), '--home', home, '--yes', '--json'], { cwd: work });
    expect(JSON.parse(update.stdout)).toMatchObject({ ok: true, version: '1.1.0' });
  });
});
