import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseFsGrant } from '../../../runtime/capabilities/fs.ts';
import { SandboxError } from '../../../runtime/errors.ts';
import { createFileAccess, resolveFsGrant } from '../../../runtime/io/files.ts';
import type { FileAccess } from '../../../runtime/io/files.ts';
import type { CapabilityEvent } from '../../../runtime/types.ts';

const LIMITS = { maxReadBytes: 1024, maxWriteBytes: 1024, writeBytes: 64 * 1024, grantWriteBytes: 1024 * 1024 };

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    expect(e).toBeInstanceOf(SandboxError);
    const err = e as SandboxError;
    const deny = /\((FS_[A-Z_]+)\)/.exec(err.message)?.[1];
    return err.code === 'CAPABILITY_DENIED' ? `DENIED:${deny ?? '?'}` : err.code;
  }
}

async function message(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a rejection');
}

describe('createFileAccess', () => {
  // root/
  //   data/        write grant        (a.txt, link-out → outside/secret.txt, dir-out → outside/)
  //   database/    not granted        (sibling sharing the prefix "data")
  //   ro/          read-only grant    (r.txt)
  //   outside/     not granted        (secret.txt)
  let root: string;
  let files: FileAccess;
  let events: CapabilityEvent[];

  beforeEach(async () => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'warden-files-')));
    for (const d of ['data', 'database', 'ro', 'outside']) mkdirSync(join(root, d));
    writeFileSync(join(root, 'data', 'a.txt'), 'alpha');
    writeFileSync(join(root, 'database', 'db.txt'), 'db');
    writeFileSync(join(root, 'ro', 'r.txt'), 'read-only');
    writeFileSync(join(root, 'outside', 'secret.txt'), 'secret');
    symlinkSync(join(root, 'outside', 'secret.txt'), join(root, 'data', 'link-out'));
    symlinkSync(join(root, 'outside'), join(root, 'data', 'dir-out'));
    symlinkSync(join(root, 'data', 'a.txt'), join(root, 'data', 'link-in'));
    symlinkSync(join(root, 'outside', 'missing'), join(root, 'data', 'dangling'));
    const grant = await resolveFsGrant(parseFsGrant([`write:${root}/data`, `read:${root}/ro`]));
    events = [];
    files = createFileAccess(grant, { limits: LIMITS, onEvent: (e) => events.push(e) });
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  describe('inside the grant', () => {
    it('reads text and bytes', async () => {
      expect(await files.readFile(`${root}/data/a.txt`, 'utf8')).toBe('alpha');
      expect(Buffer.from((await files.readFile(`${root}/data/a.txt`, null)) as Uint8Array).toString()).toBe('alpha');
      expect(events).toContainEqual({ kind: 'fs', op: 'readFile', target: `${root}/data/a.txt`, allowed: true });
    });

    it('writes, and a second write replaces the content', async () => {
      await files.writeFile(`${root}/data/new.txt`, 'one');
      await files.writeFile(`${root}/data/new.txt`, new TextEncoder().encode('two'));
      expect(readFileSync(join(root, 'data', 'new.txt'), 'utf8')).toBe('two');
    });

    it('leaves no temp files behind', async () => {
      await files.writeFile(`${root}/data/new.txt`, 'x');
      await files.writeFile(`${root}/data/a.txt`, 'y');
      expect(readdirSync(join(root, 'data')).sort()).toEqual(['a.txt', 'dangling', 'dir-out', 'link-in', 'link-out', 'new.txt']);
    });

    it('reads through a symlink that stays inside the grant', async () => {
      expect(await files.readFile(`${root}/data/link-in`, 'utf8')).toBe('alpha');
    });

    it('lists, stats, creates and removes', async () => {
      await files.mkdir(`${root}/data/sub/deeper`, { recursive: true });
      await files.writeFile(`${root}/data/sub/deeper/f.txt`, '12345');
      expect(await files.stat(`${root}/data/sub/deeper/f.txt`)).toMatchObject({ kind: 'file', size: 5 });
      expect(await files.readdir(`${root}/data/sub`)).toEqual([{ name: 'deeper', kind: 'directory' }]);
      expect((await files.readdir(`${root}/data`)).find((e) => e.name === 'link-out')).toEqual({ name: 'link-out', kind: 'symlink' });
      expect(await outcome(files.rm(`${root}/data/sub`))).toBe('CAPABILITY_FAILED');
      await files.rm(`${root}/data/sub`, { recursive: true });
      expect(existsSync(join(root, 'data', 'sub'))).toBe(false);
    });

    it('removes a symlink itself, not its target', async () => {
      await files.rm(`${root}/data/link-out`);
      expect(existsSync(join(root, 'data', 'link-out'))).toBe(false);
      expect(readFileSync(join(root, 'outside', 'secret.txt'), 'utf8')).toBe('secret');
    });
  });

  describe('when the path is refused', () => {
    it.each([
      ['readFile outside the grant', (f: FileAccess, r: string) => f.readFile(`${r}/outside/secret.txt`, 'utf8'), 'DENIED:FS_NOT_GRANTED'],
      ['writeFile outside the grant', (f: FileAccess, r: string) => f.writeFile(`${r}/outside/new.txt`, 'x'), 'DENIED:FS_NOT_GRANTED'],
      ['a sibling sharing the prefix (/data vs /database)', (f: FileAccess, r: string) => f.readFile(`${r}/database/db.txt`, 'utf8'), 'DENIED:FS_NOT_GRANTED'],
      ['writing a sibling sharing the prefix', (f: FileAccess, r: string) => f.writeFile(`${r}/database/x`, 'x'), 'DENIED:FS_NOT_GRANTED'],
      ['writeFile in a read-only grant', (f: FileAccess, r: string) => f.writeFile(`${r}/ro/r.txt`, 'x'), 'DENIED:FS_READ_ONLY'],
      ['mkdir in a read-only grant', (f: FileAccess, r: string) => f.mkdir(`${r}/ro/d`), 'DENIED:FS_READ_ONLY'],
      ['rm in a read-only grant', (f: FileAccess, r: string) => f.rm(`${r}/ro/r.txt`), 'DENIED:FS_READ_ONLY'],
      ['.. traversal out of the grant', (f: FileAccess, r: string) => f.readFile(`${r}/data/../outside/secret.txt`, 'utf8'), 'DENIED:FS_NOT_GRANTED'],
      ['.. traversal into a prefix sibling', (f: FileAccess, r: string) => f.writeFile(`${r}/data/../database/x`, 'x'), 'DENIED:FS_NOT_GRANTED'],
      ['a relative path', (f: FileAccess) => f.readFile('data/a.txt', 'utf8'), 'DENIED:FS_BAD_PATH'],
      ['a dot-relative path', (f: FileAccess) => f.readFile('./a.txt', 'utf8'), 'DENIED:FS_BAD_PATH'],
      ['a NUL byte', (f: FileAccess, r: string) => f.readFile(`${r}/data/a.txt\0.png`, 'utf8'), 'DENIED:FS_BAD_PATH'],
      ['a non-string path', (f: FileAccess) => f.readFile(42 as unknown as string, 'utf8'), 'DENIED:FS_BAD_PATH'],
      ['reading a symlink that points outside', (f: FileAccess, r: string) => f.readFile(`${r}/data/link-out`, 'utf8'), 'DENIED:FS_SYMLINK_ESCAPE'],
      ['reading through a directory symlink that points outside', (f: FileAccess, r: string) => f.readFile(`${r}/data/dir-out/secret.txt`, 'utf8'), 'DENIED:FS_SYMLINK_ESCAPE'],
      ['writing through a directory symlink that points outside', (f: FileAccess, r: string) => f.writeFile(`${r}/data/dir-out/new.txt`, 'x'), 'DENIED:FS_SYMLINK_ESCAPE'],
      ['writing to a symlink that points outside', (f: FileAccess, r: string) => f.writeFile(`${r}/data/link-out`, 'x'), 'DENIED:FS_SYMLINK_ESCAPE'],
      ['writing to a symlink that points inside', (f: FileAccess, r: string) => f.writeFile(`${r}/data/link-in`, 'x'), 'DENIED:FS_SYMLINK_ESCAPE'],
      ['writing to a dangling symlink', (f: FileAccess, r: string) => f.writeFile(`${r}/data/dangling`, 'x'), 'DENIED:FS_SYMLINK_ESCAPE'],
      ['mkdir under a dangling symlink', (f: FileAccess, r: string) => f.mkdir(`${r}/data/dangling/sub`, { recursive: true }), 'DENIED:FS_SYMLINK_ESCAPE'],
      ['listing through a directory symlink that points outside', (f: FileAccess, r: string) => f.readdir(`${r}/data/dir-out`), 'DENIED:FS_SYMLINK_ESCAPE'],
      ['stat through a symlink that points outside', (f: FileAccess, r: string) => f.stat(`${r}/data/link-out`), 'DENIED:FS_SYMLINK_ESCAPE'],
      ['rm of the grant root', (f: FileAccess, r: string) => f.rm(`${r}/data`, { recursive: true }), 'DENIED:FS_NOT_GRANTED'],
      ['rm of the grant root spelled with a trailing slash', (f: FileAccess, r: string) => f.rm(`${r}/data/`, { recursive: true }), 'DENIED:FS_NOT_GRANTED'],
      ['rm of the parent of the grant root', (f: FileAccess, r: string) => f.rm(r, { recursive: true }), 'DENIED:FS_NOT_GRANTED'],
    ])('refuses %s', async (_name, act, expected) => {
      expect(await outcome(act(files, root))).toBe(expected);
      expect(readFileSync(join(root, 'outside', 'secret.txt'), 'utf8')).toBe('secret');
      expect(existsSync(join(root, 'data'))).toBe(true);
      expect(events.at(-1)).toMatchObject({ kind: 'fs', allowed: false });
    });

    it('leaves the symlink and its target untouched after a refused write', async () => {
      await outcome(files.writeFile(`${root}/data/link-in`, 'x'));
      expect(lstatSync(join(root, 'data', 'link-in')).isSymbolicLink()).toBe(true);
      expect(readFileSync(join(root, 'data', 'a.txt'), 'utf8')).toBe('alpha');
      expect(readdirSync(join(root, 'data')).filter((n) => n.startsWith('.warden-'))).toEqual([]);
    });

    it('never puts the real path of a symlink target in the message', async () => {
      const msg = await message(files.readFile(`${root}/data/link-out`, 'utf8'));
      expect(msg).toContain(`${root}/data/link-out`);
      expect(msg).not.toContain('outside/secret.txt');
      expect(msg).toContain('outside the grant');
    });
  });

  describe('limits', () => {
    it('fails a read over maxReadBytes', async () => {
      writeFileSync(join(root, 'data', 'big.bin'), Buffer.alloc(2048));
      expect(await outcome(files.readFile(`${root}/data/big.bin`, null))).toBe('CAPABILITY_FAILED');
    });

    it('fails a write over maxWriteBytes without creating the file', async () => {
      expect(await outcome(files.writeFile(`${root}/data/big.bin`, new Uint8Array(2048)))).toBe('CAPABILITY_FAILED');
      expect(existsSync(join(root, 'data', 'big.bin'))).toBe(false);
    });

    it('fails reading a missing file with a message naming only the asked path', async () => {
      const msg = await message(files.readFile(`${root}/data/nope.txt`, 'utf8'));
      expect(msg).toBe(`readFile ${root}/data/nope.txt: no such file or directory`);
    });

    it('fails reading a directory', async () => {
      expect(await outcome(files.readFile(`${root}/data`, 'utf8'))).toBe('CAPABILITY_FAILED');
    });
  });
});

describe('when a read-only root is nested in a writable one', () => {
  it('refuses to remove the nested root or the directory that holds it', async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'warden-nested-')));
    try {
      mkdirSync(join(root, 'w', 'mid', 'ro'), { recursive: true });
      writeFileSync(join(root, 'w', 'mid', 'ro', 'keep.txt'), 'keep');
      const files = createFileAccess(await resolveFsGrant(parseFsGrant([`write:${root}/w`, `read:${root}/w/mid/ro`])), { limits: LIMITS });
      expect(await outcome(files.rm(`${root}/w/mid/ro`, { recursive: true }))).toBe('DENIED:FS_NOT_GRANTED');
      expect(await outcome(files.rm(`${root}/w/mid`, { recursive: true }))).toBe('DENIED:FS_NOT_GRANTED');
      expect(await outcome(files.writeFile(`${root}/w/mid/ro/keep.txt`, 'x'))).toBe('OK');
      expect(readFileSync(join(root, 'w', 'mid', 'ro', 'keep.txt'), 'utf8')).toBe('x');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('resolveFsGrant', () => {
  it('realpaths each rule, so a grant given through a symlink matches real paths', async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'warden-grant-')));
    try {
      mkdirSync(join(root, 'real'));
      symlinkSync(join(root, 'real'), join(root, 'alias'));
      const grant = await resolveFsGrant(parseFsGrant([`write:${root}/alias`]));
      expect(grant.rules).toEqual([{ access: 'write', path: join(root, 'real') }]);
      const files = createFileAccess(grant, { limits: LIMITS });
      await files.writeFile(`${root}/alias/x.txt`, 'via alias');
      expect(readFileSync(join(root, 'real', 'x.txt'), 'utf8')).toBe('via alias');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('rejects a rule whose path does not exist with RULE_INVALID', async () => {
    await expect(resolveFsGrant(parseFsGrant(['read:/definitely/not/here/warden']))).rejects.toMatchObject({ code: 'RULE_INVALID' });
  });
});

describe('denied paths', () => {
  it('are realpathed again at every operation, so a home re-linked after the grant was made stays denied', async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'warden-deny-')));
    try {
      for (const d of ['w/home-a', 'w/home-b']) mkdirSync(join(root, d), { recursive: true });
      writeFileSync(join(root, 'w', 'home-b', 'audit.key'), 'KEY');
      symlinkSync(join(root, 'w', 'home-a'), join(root, 'home'));
      const { denyFsPaths } = await import('../../../runtime/capabilities/fs.ts');
      const grant = denyFsPaths(await resolveFsGrant(parseFsGrant([`write:${root}/w`])), [`${root}/home`]);
      const files = createFileAccess(grant, { limits: LIMITS });
      expect(await outcome(files.readFile(`${root}/w/home-b/audit.key`, 'utf8'))).toBe('OK');
      rmSync(join(root, 'home'));
      symlinkSync(join(root, 'w', 'home-b'), join(root, 'home'));
      expect(await outcome(files.readFile(`${root}/w/home-b/audit.key`, 'utf8'))).toBe('DENIED:FS_NOT_GRANTED');
      expect(await outcome(files.writeFile(`${root}/w/home-b/planted`, 'x'))).toBe('DENIED:FS_NOT_GRANTED');
      expect(await outcome(files.writeFile(`${root}/w/home-a/fine`, 'x'))).toBe('OK');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('resolution', () => {
  it('follows chains of symlinks that stay inside the grant, and refuses a loop without hanging', async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'warden-chain-')));
    try {
      mkdirSync(join(root, 'g', 'real'), { recursive: true });
      writeFileSync(join(root, 'g', 'real', 'f'), 'chained');
      symlinkSync('real', join(root, 'g', 'l1'));
      symlinkSync(join(root, 'g', 'l1'), join(root, 'g', 'l2'));
      symlinkSync('loop-b', join(root, 'g', 'loop-a'));
      symlinkSync('loop-a', join(root, 'g', 'loop-b'));
      const files = createFileAccess(await resolveFsGrant(parseFsGrant([`write:${root}/g`])), { limits: LIMITS });
      expect(await files.readFile(`${root}/g/l2/f`, 'utf8')).toBe('chained');
      await files.writeFile(`${root}/g/l2/new`, 'via chain');
      expect(readFileSync(join(root, 'g', 'real', 'new'), 'utf8')).toBe('via chain');
      const msg = await message(files.readFile(`${root}/g/loop-a`, 'utf8'));
      expect(msg).toBe(`readFile ${root}/g/loop-a: too many levels of symbolic links`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('creates missing directories for mkdir -p only where write is granted', async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'warden-mkdirp-')));
    try {
      mkdirSync(join(root, 'w'));
      mkdirSync(join(root, 'elsewhere'));
      symlinkSync(join(root, 'elsewhere'), join(root, 'w', 'out'));
      const files = createFileAccess(await resolveFsGrant(parseFsGrant([`write:${root}/w`])), { limits: LIMITS });
      await files.mkdir(`${root}/w/a/b/c`, { recursive: true });
      await files.mkdir(`${root}/w/a/b/c`, { recursive: true });
      expect(lstatSync(join(root, 'w', 'a', 'b', 'c')).isDirectory()).toBe(true);
      expect(await outcome(files.mkdir(`${root}/w/out/x/y`, { recursive: true }))).toBe('DENIED:FS_SYMLINK_ESCAPE');
      expect(readdirSync(join(root, 'elsewhere'))).toEqual([]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('never opens a FIFO or device for reading (no hang), and names the failure', async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'warden-fifo-')));
    try {
      mkdirSync(join(root, 'g'));
      execFileSync('mkfifo', [join(root, 'g', 'pipe')]);
      symlinkSync('/dev/zero', join(root, 'g', 'zero'));
      const files = createFileAccess(await resolveFsGrant(parseFsGrant([`write:${root}/g`, 'read:/dev'])), { limits: LIMITS });
      expect(await message(files.readFile(`${root}/g/pipe`, null))).toBe(`readFile ${root}/g/pipe: not a regular file`);
      expect(await message(files.readFile(`${root}/g/zero`, null))).toBe(`readFile ${root}/g/zero: not a regular file`);
      expect(await files.stat(`${root}/g/pipe`)).toMatchObject({ kind: 'other' });
      expect(await message(files.writeFile(`${root}/g`, 'x'))).toBe(`writeFile ${root}/g: is a directory`);
      expect(await message(files.mkdir(`${root}/g`))).toBe(`mkdir ${root}/g: already exists`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('removes a tree without following the symlinks in it', async () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'warden-rmtree-')));
    try {
      mkdirSync(join(root, 'w', 't', 'sub'), { recursive: true });
      mkdirSync(join(root, 'keep'));
      writeFileSync(join(root, 'keep', 'k'), 'k');
      writeFileSync(join(root, 'w', 't', 'sub', 'f'), 'f');
      symlinkSync(join(root, 'keep'), join(root, 'w', 't', 'sub', 'link'));
      const files = createFileAccess(await resolveFsGrant(parseFsGrant([`write:${root}/w`])), { limits: LIMITS });
      await files.rm(`${root}/w/t`, { recursive: true });
      expect(existsSync(join(root, 'w', 't'))).toBe(false);
      expect(readFileSync(join(root, 'keep', 'k'), 'utf8')).toBe('k');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
