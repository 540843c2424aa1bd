/**
 * Writing lock.json: the commit point of install, remove, grant and revoke.
 *
 * Threat (crash consistency): a process killed mid-write must never leave a half-written lock (serve
 * would refuse every installed package) or a lock naming a directory that is not complete. The lock is
 * written with host/home/files.ts's atomicWrite (temporary file, fsync, rename, fsync of the directory).
 * Package directories are complete and fsynced before the lock that names them is written
 * (host/install/commit.ts).
 *
 * Threat (tampering): the entries named in `seal` are sealed with the home's lock.key
 * (host/home/seal.ts); every other entry keeps the seal it had, so writing the lock never blesses an
 * entry someone else changed.
 */
import type { Home, LockFile } from './home.ts';
import { atomicWrite, fsyncDir } from './files.ts';
import { sealEntry, sealKeyForWriting } from './seal.ts';

export { fsyncDir };

/** The temporary name of a lock being written (cleaned by the next install if a crash leaves it). */
export const LOCK_TMP_PREFIX = 'lock.json.';
export const LOCK_TMP_SUFFIX = '.tmp';

export interface LockWriteOptions {
  /** The packages whose entries this write created or changed: they are (re-)sealed. */
  readonly seal?: readonly string[];
  /** Runs once the temporary file is durable (a test hook for crash simulation). */
  readonly beforeRename?: () => Promise<void> | void;
}

/** Writes lock.json atomically. Call with the home's writer lock held. */
export async function writeLockAtomic(home: Home, lock: LockFile, options: LockWriteOptions = {}): Promise<void> {
  const key = options.seal && options.seal.length > 0 ? await sealKeyForWriting(home) : undefined;
  const sorted: Record<string, unknown> = {};
  for (const name of Object.keys(lock.packages).sort()) {
    const entry = lock.packages[name];
    if (entry === undefined) continue;
    sorted[name] = key && options.seal?.includes(name) ? sealEntry(key, name, entry) : entry;
  }
  const text = `${JSON.stringify({ version: 1, packages: sorted }, null, 2)}\n`;
  await atomicWrite(home.lockFile, text, { mode: 0o600, ...(options.beforeRename ? { beforeRename: options.beforeRename } : {}) });
}
