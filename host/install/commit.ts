/**
 * Installing a verified package atomically: extract, make durable, rename into place, commit the lock.
 *
 * Threat (crash consistency): a process killed at any instant must leave the home with the old version
 * or the new one, never half. Every step before the lock's rename only adds things no lock entry names
 * (inert, see host/home/recovery.ts); the rename of lock.json is the single commit point; the old
 * version's directory is removed only after it. Files and directories are fsynced before the lock that
 * names them, so after a power loss the lock never points at a directory whose contents were not written.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Home, LockEntry, LockFile } from '../home/home.ts';
import { packageDir } from '../home/home.ts';
import { extractTarball } from '../pack/extract.ts';
import { TMP_DIR_PREFIX } from '../home/recovery.ts';
import { fsyncDir, writeLockAtomic } from '../home/lock-write.ts';
import { keepSignedPackage } from '../home/store.ts';

/** The steps after which a test may simulate a crash. */
export const INSTALL_STEPS = ['extracted', 'renamed', 'lock-written', 'committed'] as const;
export type InstallStep = (typeof INSTALL_STEPS)[number];

export interface CommitHooks {
  /** Called after each step (tests kill the process here to simulate a crash). */
  readonly at?: (step: InstallStep) => Promise<void> | void;
}

/** fsyncs every file and directory under `dir`, deepest first. */
async function fsyncTree(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await fsyncTree(p);
    else {
      const fh = await open(p, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  }
  await fsyncDir(dir);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * The directory for a new install: packages/<name>@<version>, unless the lock already names it (a
 * reinstall of the same version, e.g. to repair it), then a fresh sibling, so the directory the current
 * lock names is never touched before the commit.
 */
function targetDir(lock: LockFile, name: string, version: string): string {
  const base = packageDir(name, version);
  const taken = new Set(Object.values(lock.packages).map((e) => e.dir));
  return taken.has(base) ? `${base}~${randomBytes(4).toString('hex')}` : base;
}

/**
 * Extracts `tarball` (already verified) and commits `entry` for `name` in the lock.
 * @returns the new lock and the entry as committed.
 */
export async function commitInstall(
  home: Home,
  lock: LockFile,
  name: string,
  tarball: Uint8Array,
  /** The Sigstore bundle that verified `tarball`: kept in the home's store with it (host/home/store.ts). */
  bundleJson: unknown,
  entry: Omit<LockEntry, 'dir'>,
  hooks: CommitHooks = {},
  /** The lock's directory of this very version, already verified intact: only the lock changes (e.g. the grant). */
  reuseDir?: string,
): Promise<{ lock: LockFile; entry: LockEntry }> {
  const dir = reuseDir ?? (await extractInto(home, lock, name, entry.version, tarball, hooks));
  // Inert until the lock names it (a crash before the commit leaves an orphan the next install removes).
  await keepSignedPackage(home, entry.integrity, tarball, bundleJson);
  const committed: LockEntry = { ...entry, dir };
  const next: LockFile = { version: 1, packages: { ...lock.packages, [name]: committed } };
  await writeLockAtomic(home, next, { seal: [name], beforeRename: () => hooks.at?.('lock-written') });
  await hooks.at?.('committed');

  // After the commit: the previous version's directory is no longer named by the lock.
  const old = lock.packages[name];
  if (old && old.dir !== dir && !Object.values(next.packages).some((e) => e.dir === old.dir)) {
    await rm(join(home.dir, old.dir), { recursive: true, force: true });
  }
  return { lock: next, entry: committed };
}

/** Extracts into a temporary directory, makes it durable and renames it into place; returns its lock `dir`. */
async function extractInto(home: Home, lock: LockFile, name: string, version: string, tarball: Uint8Array, hooks: CommitHooks): Promise<string> {
  await mkdir(home.packagesDir, { recursive: true, mode: 0o755 });
  const tmp = join(home.packagesDir, `${TMP_DIR_PREFIX}${randomBytes(8).toString('hex')}`);
  const dir = targetDir(lock, name, version);
  const target = join(home.dir, dir);
  try {
    await extractTarball(tarball, tmp);
    await fsyncTree(tmp);
    await hooks.at?.('extracted');
    // A leftover directory of the same name is an orphan (no lock names it): replace it.
    if (await exists(target)) await rm(target, { recursive: true, force: true });
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await rename(tmp, target);
    await fsyncDir(dirname(target));
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  await hooks.at?.('renamed');
  return dir;
}
