import { chmodSync, cpSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import ssri from 'ssri';
import { describe, expect, it } from 'vitest';
import { pack, packToBuffer, tarballFileName } from '../../../host/pack/pack.ts';
import { readTarball } from '../../../host/pack/extract.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';
import { tempDir, writeToolPackage } from '../../helpers/tool-package.ts';

describe('pack', () => {
  it('writes <name>-<version>.tgz and returns its sha512 SRI integrity', async () => {
    const dir = writeToolPackage(tempDir(), '@acme/echo', '1.2.3');
    const out = tempDir();
    const r = await pack(dir, out);
    expect(r.file).toBe(join(out, 'acme-echo-1.2.3.tgz'));
    expect([r.name, r.version]).toEqual(['@acme/echo', '1.2.3']);
    const bytes = readFileSync(r.file);
    expect(r.size).toBe(bytes.length);
    expect(r.integrity).toMatch(/^sha512-/);
    expect(ssri.checkData(bytes, r.integrity, { error: true })).toBeTruthy();
  });

  it('is byte-for-byte reproducible: twice, and from a copy with other mtimes and modes', async () => {
    const dir = writeToolPackage(tempDir());
    const a = await pack(dir, tempDir());
    const b = await pack(dir, tempDir());
    const copy = join(tempDir(), 'copy');
    cpSync(dir, copy, { recursive: true });
    utimesSync(join(copy, 'dist', 'index.js'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    chmodSync(join(copy, 'README.md'), 0o600);
    const c = await pack(copy, tempDir());
    expect(readFileSync(b.file).equals(readFileSync(a.file))).toBe(true);
    expect(readFileSync(c.file).equals(readFileSync(a.file))).toBe(true);
    expect(new Set([a.integrity, b.integrity, c.integrity]).size).toBe(1);
  });

  it('holds package.json, the entry, README and listed files under package/, sorted, with fixed metadata', async () => {
    const dir = writeToolPackage(tempDir(), '@acme/echo', '1.0.0', { files: ['schemas'] });
    mkdirSync(join(dir, 'schemas'));
    writeFileSync(join(dir, 'schemas', 'b.json'), '{}');
    writeFileSync(join(dir, 'schemas', 'a.json'), '{}');
    writeFileSync(join(dir, 'secret.txt'), 'not listed');
    const { data } = await packToBuffer(dir);
    const entries: { path: string; mode: number; uid: number; gid: number; mtime: number }[] = [];
    // node-tar (what npm uses) reads it.
    await new Promise<void>((resolve, reject) => {
      const parser = new tar.Parser({
        strict: true,
        onReadEntry: (e) => {
          entries.push({ path: e.path, mode: e.mode ?? -1, uid: e.uid ?? -1, gid: e.gid ?? -1, mtime: e.mtime?.getTime() ?? -1 });
          e.resume();
        },
      });
      parser.on('end', resolve);
      parser.on('error', reject);
      parser.end(data);
    });
    expect(entries.map((e) => e.path)).toEqual(['package/README.md', 'package/dist/index.js', 'package/package.json', 'package/schemas/a.json', 'package/schemas/b.json']);
    for (const e of entries) expect([e.mode & 0o777, e.uid, e.gid, e.mtime]).toEqual([0o644, 0, 0, Date.UTC(1985, 9, 26, 8, 15, 0)]);
    // gzip header: no mtime, no file name, fixed OS byte.
    expect([...data.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]);
    expect(readTarball(data).map((f) => f.path)).toEqual(entries.map((e) => e.path.slice('package/'.length)));
  });

  it('keeps the executable bit as 0755', async () => {
    const dir = writeToolPackage(tempDir());
    chmodSync(join(dir, 'dist', 'index.js'), 0o700);
    const files = readTarball((await packToBuffer(dir)).data);
    expect(files.find((f) => f.path === 'dist/index.js')?.executable).toBe(true);
    expect(files.find((f) => f.path === 'package.json')?.executable).toBe(false);
  });

  it('refuses a symbolic link in the package (it could point at a secret outside)', async () => {
    const dir = writeToolPackage(tempDir(), '@acme/echo', '1.0.0', { files: ['data'] });
    symlinkSync('/etc/passwd', join(dir, 'data'));
    expect(await asyncCodeOf(() => packToBuffer(dir))).toBe('PACKAGE_INVALID');
  });

  it('refuses listed paths that leave the package, and globs', async () => {
    expect(await asyncCodeOf(() => packToBuffer(writeToolPackage(tempDir(), '@acme/echo', '1.0.0', { files: ['../x'] })))).toBe('MANIFEST_INVALID');
    expect(await asyncCodeOf(() => packToBuffer(writeToolPackage(tempDir(), '@acme/echo', '1.0.0', { files: ['dist/*.js'] })))).toBe('MANIFEST_INVALID');
  });

  it('refuses a package whose entry file is missing', async () => {
    const dir = writeToolPackage(tempDir());
    writeFileSync(join(dir, 'package.json'), readFileSync(join(dir, 'package.json'), 'utf8').replace('dist/index.js', 'dist/missing.js'));
    expect(await asyncCodeOf(() => packToBuffer(dir))).toBe('PACKAGE_INVALID');
  });

  it('names scoped and unscoped tarballs like npm', () => {
    expect(tarballFileName('@acme/http-json', '1.0.0')).toBe('acme-http-json-1.0.0.tgz');
    expect(tarballFileName('echo', '2.0.0-rc.1')).toBe('echo-2.0.0-rc.1.tgz');
  });
});
