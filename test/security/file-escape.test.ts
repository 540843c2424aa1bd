import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { grantOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// A hostile tool tries every way out of its file grant, through the real sandbox, on real files.
const root = realpathSync(mkdtempSync(join(tmpdir(), 'warden-fs-')));
const data = join(root, 'data');
const database = join(root, 'database');
const outside = join(root, 'outside');
for (const d of [data, database, outside]) mkdirSync(d);
writeFileSync(join(data, 'a.txt'), 'inside');
writeFileSync(join(data, 'tiny'), 'xy');
writeFileSync(join(database, 'secret.txt'), 'sibling secret');
writeFileSync(join(outside, 'secret.txt'), 'outside secret');
symlinkSync(join(outside, 'secret.txt'), join(data, 'link-out'));
symlinkSync(outside, join(data, 'dir-out'));

const sandbox = newSandbox();
afterAll(async () => {
  await sandbox.close();
  rmSync(root, { recursive: true, force: true });
});

const tool = inlinePackage(`export default {
  read: async ({ path }, ctx) => {
    try { return { text: await ctx.fs.readFile(path, 'utf8') }; }
    catch (e) { return { code: e.code, message: String(e.message), stack: String(e.stack) }; }
  },
  write: async ({ path, text }, ctx) => {
    try { await ctx.fs.writeFile(path, text); return { ok: true }; } catch (e) { return { code: e.code }; }
  },
  list: async ({ path }, ctx) => (await ctx.fs.readdir(path)).map((e) => e.name).sort(),
  bytes: async ({ path }, ctx) => ({ byteLength: (await ctx.fs.readFile(path)).byteLength }),
  writeBytes: async ({ path }, ctx) => {
    const data = new Uint8Array(300);
    for (let i = 0; i < data.length; i++) data[i] = i & 255;
    await ctx.fs.writeFile(path, data.subarray(10, 266));
    const back = await ctx.fs.readFile(path);
    return { length: back.length, first: back[0], last: back[back.length - 1] };
  },
  paths: (_a, ctx) => ctx.paths,
}`);

describe('file access from inside the sandbox', () => {
  it('reads and lists inside a read grant', async () => {
    const grant = await grantOf([], [`read:${data}`]);
    expect((await sandbox.run(tool, 'read', { path: join(data, 'a.txt') }, grant, limits())).value).toEqual({ text: 'inside' });
    expect((await sandbox.run(tool, 'list', { path: data }, grant, limits())).value).toEqual(['a.txt', 'dir-out', 'link-out', 'tiny']);
  });

  it.each([
    ['a sibling whose name shares the prefix (/data vs /database)', () => join(database, 'secret.txt')],
    ['a symlink inside the grant pointing outside', () => join(data, 'link-out')],
    ['a path through a symlinked directory', () => join(data, 'dir-out', 'secret.txt')],
    ['.. traversal', () => `${data}/../outside/secret.txt`],
    ['a relative path', () => 'secret.txt'],
    ['a NUL byte', () => `${data}/a.txt\u0000.png`],
  ])('refuses to read %s', async (_name, path) => {
    const grant = await grantOf([], [`read:${data}`]);
    const { value } = await sandbox.run(tool, 'read', { path: path() }, grant, limits());
    expect(value).toMatchObject({ code: 'CAPABILITY_DENIED' });
    const v = value as { message: string; stack: string };
    // The tool is not told where the symlink really leads.
    expect(`${v.message}\n${v.stack}`).not.toContain(outside);
    expect(v.stack).not.toMatch(/node:internal|node_modules|runtime\//);
  });

  it('refuses writes under a read-only grant and outside any grant, and writes nothing', async () => {
    mkdirSync(join(root, 'out'), { recursive: true });
    const grant = await grantOf([], [`read:${data}`, `write:${join(root, 'out')}`]);
    expect((await sandbox.run(tool, 'write', { path: join(data, 'new.txt'), text: 'x' }, grant, limits())).value).toEqual({ code: 'CAPABILITY_DENIED' });
    expect((await sandbox.run(tool, 'write', { path: join(outside, 'new.txt'), text: 'x' }, grant, limits())).value).toEqual({ code: 'CAPABILITY_DENIED' });
    expect(existsSync(join(data, 'new.txt')) || existsSync(join(outside, 'new.txt'))).toBe(false);
    expect((await sandbox.run(tool, 'write', { path: join(root, 'out', 'ok.txt'), text: 'written' }, grant, limits())).value).toEqual({ ok: true });
    expect(readFileSync(join(root, 'out', 'ok.txt'), 'utf8')).toBe('written');
    expect(readdirSync(join(root, 'out'))).toEqual(['ok.txt']);
  });

  it('grants nothing by default', async () => {
    const grant = await grantOf([], []);
    expect((await sandbox.run(tool, 'read', { path: join(data, 'a.txt') }, grant, limits())).value).toMatchObject({ code: 'CAPABILITY_DENIED' });
  });

  it('writes exactly the bytes of a typed-array view, not its whole buffer', async () => {
    mkdirSync(join(root, 'bin'), { recursive: true });
    const grant = await grantOf([], [`write:${join(root, 'bin')}`]);
    const { value } = await sandbox.run(tool, 'writeBytes', { path: join(root, 'bin', 'b.dat') }, grant, limits());
    expect(value).toEqual({ length: 256, first: 10, last: 9 });
    expect(readFileSync(join(root, 'bin', 'b.dat')).length).toBe(256);
  });

  it('returns a small file as an exactly sized buffer', async () => {
    const grant = await grantOf([], [`read:${data}`]);
    expect((await sandbox.run(tool, 'bytes', { path: join(data, 'tiny') }, grant, limits())).value).toEqual({ byteLength: 2 });
  });

  it('passes bound path slots to the tool', async () => {
    const grant = await grantOf([], [`read:${data}`]);
    const pkg = { ...tool, id: `${tool.id}-paths`, paths: { workspace: data } };
    expect((await sandbox.run(pkg, 'paths', {}, grant, limits())).value).toEqual({ workspace: data });
  });
});
