/**
 * Writing lock.json: the commit point of install, remove, grant and revoke.
 *
 * Threat (crash consistency): a process killed mid-write must never leave a half-written lock (serve
 * would refuse every installed package) or a lock naming a directory that is not complete. The lock is
 * written to a temporary file in the home, fsynced, renamed over lock.json (atomic on POSIX), and the
 * directory is fsynced so the rename itself survives a power loss. Package directories are complete and
 * fsynced before the lock that names them is written (host/install/commit.ts).
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import type { Home, LockFile } from './home.ts';

/** fsyncs a directory so a rename or create inside it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on a directory: the rename is still atomic, only less durable.
  } finally {
    await fh.close();
  }
}

/** The temporary name of a lock being written (cleaned by the next install if a crash leaves it). */
export const LOCK_TMP_PREFIX = 'lock.json.';
export const LOCK_TMP_SUFFIX = '.tmp';

/**
 * Writes lock.json atomically. `beforeRename` runs once the temporary file is durable (a test hook for
 * crash simulation).
 */
export async function writeLockAtomic(home: Home, lock: LockFile, beforeRename?: () => Promise<void> | void): Promise<void> {
  const sorted: Record<string, unknown> = {};
  for (const name of Object.keys(lock.packages).sort()) sorted[name] = lock.packages[name];
  const text = `${JSON.stringify({ version: 1, packages: sorted }, null, 2)}\n`;
  const tmp = `${home.dir}/${LOCK_TMP_PREFIX}${randomBytes(6).toString('hex')}${LOCK_TMP_SUFFIX}`;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await beforeRename?.();
    await rename(tmp, home.lockFile);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(home.dir);
}
