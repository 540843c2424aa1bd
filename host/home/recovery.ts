/**
 * The recovery rule of the home after a crash.
 *
 * lock.json is the only truth: a package is installed iff the lock names its directory. Everything an
 * interrupted install, remove or update can leave behind is therefore inert:
 *   - packages/.install-*            a temporary extraction (crash before its rename),
 *   - packages/<name>@<version>…     a directory no lock entry names (crash after the rename, before the
 *                                    lock was committed; or an old version after an update or remove),
 *   - lock.json.*.tmp                a lock that was never renamed into place,
 *   - store/<digest>.*                a kept signed copy no lock entry names (host/home/store.ts).
 * serve never reads them (it loads only what the lock names); the next install, remove, grant or revoke
 * deletes them, holding the home's writer lock (host/home/mutex.ts) so no running install's
 * temporary directory is ever removed.
 */
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Home, LockFile } from './home.ts';
import { LOCK_TMP_PREFIX, LOCK_TMP_SUFFIX } from './lock-write.ts';
import { cleanStore } from './store.ts';

export const TMP_DIR_PREFIX = '.install-';

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** Deletes what no lock entry references. Call with the writer lock held. @returns the paths removed, home-relative */
export async function cleanOrphans(home: Home, lock: LockFile): Promise<string[]> {
  const referenced = new Set(Object.values(lock.packages).map((e) => e.dir));
  const removed: string[] = [];
  for (const n of await names(home.dir)) {
    if (n.startsWith(LOCK_TMP_PREFIX) && n.endsWith(LOCK_TMP_SUFFIX)) {
      await rm(join(home.dir, n), { force: true });
      removed.push(n);
    }
  }
  const drop = async (rel: string): Promise<void> => {
    // rm never follows a symlink: a planted link is removed, not its target.
    await rm(join(home.dir, rel), { recursive: true, force: true });
    removed.push(rel);
  };
  for (const n of await names(home.packagesDir)) {
    const rel = `packages/${n}`;
    if (n.startsWith('@') && !n.includes('@', 1)) {
      // An npm scope directory: its children are the packages.
      for (const c of await names(join(home.packagesDir, n))) if (!referenced.has(`${rel}/${c}`)) await drop(`${rel}/${c}`);
      await rmdir(join(home.packagesDir, n)).catch(() => {});
    } else if (!referenced.has(rel)) {
      await drop(rel);
    }
  }
  removed.push(...(await cleanStore(home, lock)));
  return removed;
}
