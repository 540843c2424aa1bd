import { linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { denyFsPaths } from '../../runtime/capabilities/fs.ts';
import type { Grant } from '../../runtime/api.ts';
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
// links/: symlinks whose targets outside the grant exist or not (an oracle must not tell them apart).
const links = join(root, 'links');
mkdirSync(links);
symlinkSync(join(outside, 'secret.txt'), join(links, 'to-file'));
symlinkSync(join(outside, 'missing.txt'), join(links, 'to-missing'));
symlinkSync(outside, join(links, 'to-dir'));
symlinkSync(join(outside, 'no-dir'), join(links, 'to-missing-dir'));
symlinkSync(join(outside, 'secret.txt', 'x'), join(links, 'to-under-file'));
// hl/: a hard link to a file outside the grant.
const hl = join(root, 'hl');
mkdirSync(hl);
writeFileSync(join(outside, 'hl-secret.txt'), 'hard-linked secret');
linkSync(join(outside, 'hl-secret.txt'), join(hl, 'hard'));
writeFileSync(join(hl, 'own.txt'), 'own');

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
  attempt: async ({ op, path, text, recursive }, ctx) => {
    try {
      switch (op) {
        case 'read': return { ok: await ctx.fs.readFile(path, 'utf8') };
        case 'write': await ctx.fs.writeFile(path, text ?? ''); return { ok: true };
        case 'list': return { ok: (await ctx.fs.readdir(path)).map((e) => e.name).sort() };
        case 'stat': return { ok: (await ctx.fs.stat(path)).kind };
        case 'mkdir': await ctx.fs.mkdir(path, { recursive: !!recursive }); return { ok: true };
        case 'rm': await ctx.fs.rm(path, { recursive: !!recursive }); return { ok: true };
      }
      return { ok: 'unknown op' };
    } catch (e) { return { code: e.code, message: String(e.message) }; }
  },
}`);

type Outcome = { ok?: unknown; code?: string; message?: string };

async function attempt(grant: Grant, op: string, path: string, extra: { text?: string; recursive?: boolean } = {}): Promise<Outcome> {
  return (await sandbox.run(tool, 'attempt', { op, path, ...extra }, grant, limits({ wallMs: 20_000 }))).value as Outcome;
}

/** The outcome with the asked path blanked out, so outcomes for different paths can be compared. */
async function shape(grant: Grant, op: string, path: string): Promise<Outcome> {
  const o = await attempt(grant, op, path, { text: 'x' });
  return o.message === undefined ? o : { ...o, message: o.message.split(path).join('<path>') };
}

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

describe('a hard link inside the grant to a file outside it', () => {
  it('is refused for reading and stat, with FS_HARD_LINK, and its content never reaches the tool', async () => {
    const grant = await grantOf([], [`read:${hl}`]);
    for (const op of ['read', 'stat']) {
      const o = await attempt(grant, op, join(hl, 'hard'));
      expect(o).toMatchObject({ code: 'CAPABILITY_DENIED' });
      expect(o.message).toContain('FS_HARD_LINK');
      expect(JSON.stringify(o)).not.toContain('hard-linked secret');
    }
    expect(await attempt(grant, 'read', join(hl, 'own.txt'))).toEqual({ ok: 'own' });
  });

  it('is never written through: a write replaces the name inside the grant and leaves the outside file alone', async () => {
    const grant = await grantOf([], [`write:${hl}`]);
    expect(await attempt(grant, 'write', join(hl, 'hard'), { text: 'replaced' })).toEqual({ ok: true });
    expect(readFileSync(join(outside, 'hl-secret.txt'), 'utf8')).toBe('hard-linked secret');
    expect(statSync(join(outside, 'hl-secret.txt')).nlink).toBe(1);
    expect(readFileSync(join(hl, 'hard'), 'utf8')).toBe('replaced');
  });
});

describe('refusals do not tell whether something outside the grant exists', () => {
  // Pairs of paths outside the grant: the first exists (or runs through a file: ENOTDIR), the second does
  // not. The tool must get the same code and message for both (its own path blanked out).
  const all = ['read', 'stat', 'list', 'write', 'mkdir', 'rm'];
  // rm of a symlink inside the grant removes the link itself (allowed), so it is left out for those.
  const notRm = all.filter((op) => op !== 'rm');
  const pairs: [string, () => string, () => string, string[]][] = [
    ['a file', () => join(outside, 'secret.txt'), () => join(outside, 'nope.txt'), all],
    ['a path under a file (ENOTDIR)', () => join(outside, 'secret.txt', 'x'), () => join(outside, 'nope', 'x'), all],
    ['a directory', () => outside, () => join(root, 'no-such-dir'), all],
    ['a path under a prefix sibling', () => join(database, 'secret.txt'), () => join(database, 'nope.txt'), all],
    ['a symlink in the grant to a file outside', () => join(links, 'to-file'), () => join(links, 'to-missing'), notRm],
    ['a path through a symlink to a directory outside', () => join(links, 'to-dir', 'secret.txt'), () => join(links, 'to-missing-dir', 'secret.txt'), all],
    ['a symlink in the grant to a path under an outside file', () => join(links, 'to-under-file'), () => join(links, 'to-missing'), notRm],
  ];

  it.each(pairs)('%s: same code and message whether it exists or not', async (_name, present, absent, ops) => {
    const grant = await grantOf([], [`write:${links}`, `read:${data}`]);
    for (const op of ops) {
      const a = await shape(grant, op, present());
      const b = await shape(grant, op, absent());
      expect([op, a.code]).toEqual([op, 'CAPABILITY_DENIED']);
      expect([op, a]).toEqual([op, b]);
    }
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('outside secret');
    expect(existsSync(join(outside, 'nope.txt')) || existsSync(join(outside, 'missing.txt'))).toBe(false);
  });
});

describe('file names with control or bidirectional-formatting characters', () => {
  const names = [
    ['a newline', 'evil\nname.txt'],
    ['a carriage return', 'evil\rname.txt'],
    ['a bell', 'a\u0007b'],
    ['a tab', 'a\tb'],
    ['DEL', 'a\u007fb'],
    ['a C1 control', 'a\u0085b'],
    ['a right-to-left override', 'invoice\u202Efdp.exe'],
    ['a left-to-right isolate', 'a\u2066b'],
    ['a right-to-left mark', 'a\u200Fb'],
    ['a line separator', 'a\u2028b'],
  ];

  it.each(names)('refuses to create a file or directory whose name has %s (FS_BAD_NAME)', async (_what, name) => {
    const dir = join(root, 'names-w');
    mkdirSync(dir, { recursive: true });
    const grant = await grantOf([], [`write:${dir}`]);
    for (const op of ['write', 'mkdir']) {
      const o = await attempt(grant, op, join(dir, name), { text: 'x', recursive: true });
      expect([op, o.code]).toEqual([op, 'CAPABILITY_DENIED']);
      expect(o.message).toContain('FS_BAD_NAME');
      // The message never echoes the raw character.
      expect(o.message).not.toContain(name);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('leaves such names out of readdir and refuses to address them', async () => {
    const dir = join(root, 'names-r');
    mkdirSync(dir, { recursive: true });
    for (const [, name] of names) writeFileSync(join(dir, name as string), 'planted');
    writeFileSync(join(dir, 'plain.txt'), 'plain');
    const grant = await grantOf([], [`read:${dir}`]);
    expect(await attempt(grant, 'list', dir)).toEqual({ ok: ['plain.txt'] });
    const o = await attempt(grant, 'read', join(dir, 'evil\nname.txt'));
    expect(o.message).toContain('FS_BAD_NAME');
  });
});

describe('readdir', () => {
  it('refuses a directory with more than 10,000 entries instead of returning them all', async () => {
    const dir = join(root, 'huge');
    mkdirSync(dir);
    for (let i = 0; i <= 10_000; i++) writeFileSync(join(dir, `f${i}`), '');
    const grant = await grantOf([], [`read:${dir}`]);
    const o = await attempt(grant, 'list', dir);
    expect(o.code).toBe('CAPABILITY_FAILED');
    expect(o.message).toContain('10000 entries');
    rmSync(join(dir, 'f0'));
    expect(((await attempt(grant, 'list', dir)).ok as string[]).length).toBe(10_000);
  });
});

describe("a denied path (the user's mcp-warden home) inside a granted directory", () => {
  // parent/            write grant
  //   home/            denied (stands for ~/.mcp-warden: keys, trust.json, lock.json)
  //   work/link-home → home, work/link-key → home/audit.key
  //   nest/inner-home  denied too
  const parent = join(root, 'parent');
  const home = join(parent, 'home');
  const work = join(parent, 'work');
  mkdirSync(home, { recursive: true });
  mkdirSync(work, { recursive: true });
  mkdirSync(join(parent, 'nest', 'inner-home'), { recursive: true });
  writeFileSync(join(home, 'audit.key'), 'KEY');
  symlinkSync(home, join(work, 'link-home'));
  symlinkSync(join(home, 'audit.key'), join(work, 'link-key'));
  symlinkSync(home, join(root, 'home-alias'));

  async function homeGrant(denied: string[]): Promise<Grant> {
    const g = await grantOf([], [`write:${parent}`]);
    return { ...g, fs: denyFsPaths(g.fs, denied) };
  }

  it.each([
    ['reading a key in it', 'read', () => join(home, 'audit.key')],
    ['reading a missing file in it', 'read', () => join(home, 'nope')],
    ['listing it', 'list', () => home],
    ['stat of it', 'stat', () => home],
    ['overwriting a key in it', 'write', () => join(home, 'audit.key')],
    ['creating a file in it', 'write', () => join(home, 'planted.json')],
    ['creating a directory in it', 'mkdir', () => join(home, 'packages')],
    ['removing it', 'rm', () => home],
    ['removing a directory that holds a denied one', 'rm', () => join(parent, 'nest')],
    ['reading through a symlink in the grant to a key in it', 'read', () => join(work, 'link-key')],
    ['writing through a symlink in the grant to it', 'write', () => join(work, 'link-home', 'planted.json')],
    ['listing through a symlink in the grant to it', 'list', () => join(work, 'link-home')],
  ])('refuses %s with FS_NOT_GRANTED', async (_name, op, path) => {
    const inner = join(parent, 'nest', 'inner-home');
    // The home given by its real path, and through a symlink (the check realpaths it at every use).
    for (const denied of [[home, inner], [join(root, 'home-alias'), inner]]) {
      const o = await attempt(await homeGrant(denied), op, path(), { text: 'TAMPERED', recursive: true });
      expect(o).toMatchObject({ code: 'CAPABILITY_DENIED' });
      expect(o.message).toContain('FS_NOT_GRANTED');
      expect(o.message).not.toContain('KEY');
    }
    expect(readFileSync(join(home, 'audit.key'), 'utf8')).toBe('KEY');
    expect(readdirSync(home)).toEqual(['audit.key']);
    expect(existsSync(join(parent, 'nest', 'inner-home'))).toBe(true);
  });

  it('still grants the rest of the directory', async () => {
    const grant = await homeGrant([home, join(parent, 'nest', 'inner-home')]);
    expect(await attempt(grant, 'write', join(work, 'ok.txt'), { text: 'fine' })).toEqual({ ok: true });
    expect(await attempt(grant, 'read', join(work, 'ok.txt'))).toEqual({ ok: 'fine' });
  });
});
