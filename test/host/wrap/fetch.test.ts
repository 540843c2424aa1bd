/**
 * Fetching a server's tree (host/wrap/fetch.ts): a lock is read strictly (no path out of the tree, sha512
 * only), and a tarball that does not match the integrity the lock pins is refused, even when the cache
 * (test/fixtures/wrap/.cache) holds a tarball of that integrity (another package's).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fetchTree, readLock } from '../../../host/wrap/fetch.ts';
import type { WrapLock } from '../../../host/wrap/fetch.ts';
import { WRAP_CACHE, WRAP_FIXTURES } from './e2e-harness.ts';

const work = mkdtempSync(join(tmpdir(), 'mcp-warden-fetch-'));
const lockWith = (packages: unknown[]): string => {
  const file = join(work, `lock-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ lockVersion: 1, root: 'a', packages }));
  return file;
};
const SHA = `sha512-${Buffer.alloc(64).toString('base64')}`;

describe('readLock', () => {
  it('reads a lock pinned with sha512', async () => {
    const lock = await readLock(lockWith([{ name: 'a', version: '1.0.0', integrity: SHA, location: 'node_modules/a' }]));
    expect(lock.packages).toHaveLength(1);
  });

  it.each([
    ['a place outside the tree', { name: 'a', version: '1.0.0', integrity: SHA, location: 'node_modules/../../etc' }],
    ['an absolute place', { name: 'a', version: '1.0.0', integrity: SHA, location: '/tmp/x' }],
    ['a sha1 integrity', { name: 'a', version: '1.0.0', integrity: 'sha1-AAAA', location: 'node_modules/a' }],
  ])('refuses %s', async (_what, entry) => {
    await expect(readLock(lockWith([entry]))).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('fetchTree from a lock', () => {
  it('refuses a package whose pinned integrity is not the tarball\'s', { timeout: 120_000 }, async () => {
    const real = JSON.parse(readFileSync(join(WRAP_FIXTURES, 'server-sequential-thinking.lock.json'), 'utf8')) as WrapLock;
    const other = real.packages.find((p) => p.name === 'zod');
    const root = real.packages.find((p) => p.location === `node_modules/${real.root}`);
    if (other === undefined || root === undefined) throw new Error('the fixture lock changed');
    // Both tarballs in the cache first (fetched from the registry on a first run, checked against the lock).
    await fetchTree(real.root, mkdtempSync(join(work, 'tree-')), { cache: WRAP_CACHE, lock: { lockVersion: 1, root: real.root, packages: [root, { ...other, location: 'node_modules/zod' }] } });
    // The server pinned with zod's integrity: whatever the cache or the registry holds, it does not match.
    const forged: WrapLock = { lockVersion: 1, root: real.root, packages: [{ ...root, integrity: other.integrity }] };
    await expect(fetchTree(real.root, mkdtempSync(join(work, 'tree-')), { cache: WRAP_CACHE, lock: forged, offline: true })).rejects.toMatchObject({ code: 'INTEGRITY_MISMATCH' });
  });
});
