import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TAR_LIMITS, extractTarball, readPackageJsonFromTarball, readTarball } from '../../../host/pack/extract.ts';
import { packToBuffer } from '../../../host/pack/pack.ts';
import { BLOCK, encodeHeader } from '../../../host/pack/ustar.ts';
import { asyncCodeOf, codeOf } from '../../helpers/codes.ts';
import { tempDir, writeToolPackage } from '../../helpers/tool-package.ts';

interface Entry {
  path: string;
  data?: string | Buffer;
  type?: string;
  mode?: number;
}

/** A hand-made tarball: any path, any type, as an attacker would write it. */
function craft(entries: Entry[], options: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '');
    parts.push(encodeHeader({ path: e.path, mode: e.mode ?? 0o644, size: data.length, mtime: 0, type: e.type ?? '0' }));
    parts.push(data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  if (options.end !== false) parts.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(parts));
}

const PKG = { path: 'package/package.json', data: '{"name":"@acme/echo","version":"1.0.0"}' };

/** A pax extended header record. */
function pax(records: Record<string, string>): Buffer {
  let out = '';
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    let len = body.length + 1;
    if (String(len).length + body.length !== len) len = String(len + 1).length + body.length;
    out += `${len}${body}`;
  }
  return Buffer.from(out);
}

describe('readTarball', () => {
  it('reads a packed package', async () => {
    const { data } = await packToBuffer(writeToolPackage(tempDir()));
    expect(readTarball(data).map((f) => f.path)).toEqual(['README.md', 'dist/index.js', 'package.json']);
    expect(readPackageJsonFromTarball(data).json).toMatchObject({ name: '@acme/echo', version: '1.0.0' });
  });

  describe('when an entry would escape the destination (tar path traversal)', () => {
    it.each([
      ['an absolute path', '/etc/cron.d/evil'],
      ['a ".." segment', 'package/../../.bashrc'],
      ['a ".." segment deep inside', 'package/dist/../../../x'],
      ['a path outside package/', 'other/x.js'],
      ['a bare ".."', '..'],
      ['a backslash path', 'package\\..\\x'],
      ['a "." segment', 'package/./x'],
      ['an empty segment', 'package//x'],
    ])('refuses %s', (_what, path) => {
      expect(codeOf(() => readTarball(craft([PKG, { path, data: 'x' }])))).toBe('TARBALL_INVALID');
    });

    it('accepts a long path given in a pax header (as node-tar writes them)', () => {
      const long = `package/${'d'.repeat(120)}/${'f'.repeat(120)}.js`;
      const tgz = craft([PKG, { path: 'PaxHeader', type: 'x', data: pax({ path: long }) }, { path: 'package/short', data: 'x' }]);
      expect(readTarball(tgz).map((f) => f.path)).toEqual(['package.json', long.slice('package/'.length)]);
    });

    it('refuses a ".." path smuggled in a pax header', () => {
      const tgz = craft([PKG, { path: 'PaxHeader', type: 'x', data: pax({ path: 'package/../../x' }) }, { path: 'package/ok', data: 'x' }]);
      expect(codeOf(() => readTarball(tgz))).toBe('TARBALL_INVALID');
    });
  });

  describe('when an entry is not a regular file or directory', () => {
    it.each([
      ['a symlink', '2'],
      ['a hard link', '1'],
      ['a character device', '3'],
      ['a block device', '4'],
      ['a FIFO', '6'],
      ['a global pax header', 'g'],
      ['a GNU long name', 'L'],
    ])('refuses %s', (_what, type) => {
      expect(codeOf(() => readTarball(craft([PKG, { path: 'package/link', type }])))).toBe('TARBALL_INVALID');
    });

    it('refuses a symlink written by node-tar, then a file written through it', async () => {
      const src = tempDir();
      mkdirSync(join(src, 'package'));
      writeFileSync(join(src, 'package', 'package.json'), PKG.data);
      symlinkSync('/tmp', join(src, 'package', 'out'));
      const chunks: Buffer[] = [];
      const stream = tar.c({ gzip: true, cwd: src, portable: true }, ['package']);
      for await (const c of stream) chunks.push(c as Buffer);
      const tgz = Buffer.concat(chunks);
      expect(codeOf(() => readTarball(tgz))).toBe('TARBALL_INVALID');
    });
  });

  it('refuses a path listed twice (the verified copy would not be the installed one)', () => {
    expect(codeOf(() => readTarball(craft([PKG, { path: 'package/package.json', data: '{"name":"evil"}' }])))).toBe('TARBALL_INVALID');
    expect(codeOf(() => readTarball(craft([PKG, { path: 'package/a.js' }, { path: 'package/A.js' }])))).toBe('TARBALL_INVALID');
    expect(codeOf(() => readTarball(craft([PKG, { path: 'package/caf\u00e9.js' }, { path: 'package/cafe\u0301.js' }])))).toBe('TARBALL_INVALID');
  });

  it('refuses a file used as a directory by a later entry', () => {
    expect(codeOf(() => readTarball(craft([PKG, { path: 'package/a' }, { path: 'package/a/b' }])))).toBe('TARBALL_INVALID');
  });

  describe('when the tarball is oversized', () => {
    it('refuses a file over the per-file cap', () => {
      const tgz = craft([PKG, { path: 'package/big.bin', data: Buffer.alloc(2048) }]);
      expect(codeOf(() => readTarball(tgz, { ...DEFAULT_TAR_LIMITS, maxFileBytes: 1024 }))).toBe('TARBALL_INVALID');
    });

    it('refuses a gzip bomb over the total cap without inflating it all', () => {
      const tgz = craft([PKG, { path: 'package/zeros.bin', data: Buffer.alloc(8 * 1024 * 1024) }]);
      expect(tgz.length).toBeLessThan(64 * 1024);
      expect(codeOf(() => readTarball(tgz, { ...DEFAULT_TAR_LIMITS, maxTotalBytes: 1024 * 1024 }))).toBe('TARBALL_INVALID');
    });

    it('refuses a compressed file over the cap', () => {
      const tgz = craft([PKG]);
      expect(codeOf(() => readTarball(tgz, { ...DEFAULT_TAR_LIMITS, maxCompressedBytes: tgz.length - 1 }))).toBe('TARBALL_INVALID');
    });

    it('refuses too many entries', () => {
      const many = Array.from({ length: 20 }, (_, i) => ({ path: `package/f${i}.txt`, data: 'x' }));
      expect(codeOf(() => readTarball(craft([PKG, ...many]), { ...DEFAULT_TAR_LIMITS, maxEntries: 10 }))).toBe('TARBALL_INVALID');
    });
  });

  describe('when the tarball is truncated', () => {
    it('refuses a truncated gzip stream', async () => {
      const { data } = await packToBuffer(writeToolPackage(tempDir()));
      expect(codeOf(() => readTarball(data.subarray(0, data.length - 20)))).toBe('TARBALL_INVALID');
    });

    it('refuses a tar stream cut inside an entry', () => {
      const full = craft([PKG, { path: 'package/a.bin', data: Buffer.alloc(4000, 1) }], { end: false });
      const raw = gunzipSync(full);
      expect(codeOf(() => readTarball(gzipSync(raw.subarray(0, BLOCK * 4))))).toBe('TARBALL_INVALID');
    });

    it('refuses a tar stream without its end-of-archive marker', () => {
      expect(codeOf(() => readTarball(craft([PKG], { end: false })))).toBe('TARBALL_INVALID');
    });

    it('refuses a header with a bad checksum', () => {
      const raw = gunzipSync(craft([PKG]));
      raw[0] = 'q'.charCodeAt(0);
      expect(codeOf(() => readTarball(gzipSync(raw)))).toBe('TARBALL_INVALID');
    });

    it('refuses data that is not gzip', () => {
      expect(codeOf(() => readTarball(Buffer.from('hello')))).toBe('TARBALL_INVALID');
    });
  });
});

describe('extractTarball', () => {
  it('writes the files into a fresh directory with fixed modes', async () => {
    const dir = writeToolPackage(tempDir());
    const { data } = await packToBuffer(dir);
    const dest = join(tempDir(), 'pkg');
    expect(await extractTarball(data, dest)).toEqual(['README.md', 'dist/index.js', 'package.json']);
    expect(readFileSync(join(dest, 'dist', 'index.js'), 'utf8')).toBe(readFileSync(join(dir, 'dist', 'index.js'), 'utf8'));
    expect(statSync(join(dest, 'package.json')).mode & 0o777).toBe(0o644);
  });

  it('writes nothing when any entry is refused', async () => {
    const dest = join(tempDir(), 'pkg');
    expect(await asyncCodeOf(() => extractTarball(craft([PKG, { path: 'package/ok.js' }, { path: 'package/../evil' }]), dest))).toBe('TARBALL_INVALID');
    expect(existsSync(dest)).toBe(false);
  });

  it('refuses an existing destination (it could hold symlinks)', async () => {
    const dest = tempDir();
    symlinkSync('/tmp', join(dest, 'dist'));
    expect(await asyncCodeOf(() => extractTarball(craft([PKG]), dest))).toBe('TARBALL_INVALID');
    expect(lstatSync(join(dest, 'dist')).isSymbolicLink()).toBe(true);
  });
});
