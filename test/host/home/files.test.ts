/** The home's one atomic write and one JSON read. */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { atomicWrite, readJsonFile } from '../../../host/home/files.ts';
import { tempDir } from '../../helpers/tool-package.ts';

describe('atomicWrite', () => {
  it('replaces a file whole, mode 0600 by default, leaving no temporary file', async () => {
    const dir = tempDir('mcpw-files-');
    const file = join(dir, 'a.json');
    writeFileSync(file, 'old');
    await atomicWrite(file, 'new');
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('keeps the old content when the write fails before the rename', async () => {
    const dir = tempDir('mcpw-files-');
    const file = join(dir, 'a.json');
    writeFileSync(file, 'old');
    await expect(atomicWrite(file, 'new', { beforeRename: () => { throw new Error('crash'); } })).rejects.toThrow('crash');
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  it('creates exactly once with `exclusive` (EEXIST, existing content kept)', async () => {
    const dir = tempDir('mcpw-files-');
    const file = join(dir, 'key');
    await atomicWrite(file, 'first', { exclusive: true });
    await expect(atomicWrite(file, 'second', { exclusive: true })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(file, 'utf8')).toBe('first');
    expect(readdirSync(dir)).toEqual(['key']);
  });
});

describe('readJsonFile', () => {
  it('reads JSON, answers undefined for a missing file, and maps other failures through the caller', async () => {
    const dir = tempDir('mcpw-files-');
    writeFileSync(join(dir, 'ok.json'), '{"a":1}');
    writeFileSync(join(dir, 'bad.json'), '{');
    const fail = (why: string) => new Error(why);
    expect(await readJsonFile(join(dir, 'ok.json'), fail)).toEqual({ a: 1 });
    expect(await readJsonFile(join(dir, 'missing.json'), fail)).toBeUndefined();
    await expect(readJsonFile(join(dir, 'bad.json'), fail)).rejects.toThrow('not-json');
    await expect(readJsonFile(dir, fail)).rejects.toThrow('unreadable');
  });
});
