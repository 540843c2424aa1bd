/**
 * The verification hook run before an installed package is loaded. serve calls it for every package of
 * lock.json; if it throws, that package is refused (stderr + audit line) and the others still load.
 *
 * Threat: the files in <home>/packages are what the sandbox runs, long after install verified the
 * signature. A lock entry or a symlink must not point the loader outside <home>/packages, and a file
 * changed after install (tampering, a half-finished copy, disk corruption) must not run. Install records
 * a sha512 of every extracted file in the lock entry (host/home/file-digests.ts); this re-reads the
 * directory and compares, file by file, and refuses any difference with INTEGRITY_MISMATCH.
 *
 * Fast and offline: no network, no signature work (that was install's job), one sha512 pass over the
 * package's files (a typical package is tens of KiB: well under a millisecond). Deliberately no cache:
 * a cache keyed by (path, size, mtime, ino) is not sound against the threat it would skip — whoever can
 * write the file can also restore its mtime with utimes() and keep its size and inode (write in place),
 * and ctime, which they cannot set, changes on every chmod or backup restore, so it would buy little.
 * Re-hashing is cheap enough to do every time.
 *
 * The result is the verified bytes themselves: the loader reads package.json and the entry from them,
 * never from the disk again, so nothing can change between the check and the use.
 */
import { lstat, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { HostError } from '../errors.ts';
import type { Home, InstalledPackage } from './home.ts';
import { readVerifiedTree } from './file-digests.ts';

/** What serve knows after verification: the package as recorded, and its files as checked. */
export interface VerifiedInstall {
  readonly name: string;
  readonly version: string;
  /** SRI integrity of the tarball that was verified at install. */
  readonly integrity: string;
  /** The signer recorded at install (host/install/signer.ts). */
  readonly signer: string;
  /** The real path of the package directory. */
  readonly dir: string;
  /** Every file of the package, package-relative path → the bytes that matched the recorded digest. */
  readonly files: ReadonlyMap<string, Buffer>;
}

export type VerifyInstalled = (pkg: InstalledPackage, home: Home) => Promise<VerifiedInstall>;

export const verifyInstalled: VerifyInstalled = async (pkg, home) => {
  const what = `installed package ${pkg.name}@${pkg.version}`;
  const dir = join(home.dir, pkg.dir);
  let info;
  try {
    info = await lstat(dir);
  } catch {
    throw new HostError('PACKAGE_INVALID', `${what} is missing from the home directory`);
  }
  if (!info.isDirectory()) throw new HostError('PACKAGE_INVALID', `${what} is not a directory`);
  const [root, real] = await Promise.all([realpath(home.packagesDir), realpath(dir)]);
  const rel = relative(root, real);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..') {
    throw new HostError('PACKAGE_INVALID', `${what} resolves outside the packages directory`);
  }
  // Fail closed: an entry without file digests was not written by install (or by an older one).
  if (!pkg.files || Object.keys(pkg.files).length === 0) {
    throw new HostError('INTEGRITY_MISMATCH', `${what}: lock.json records no file digests for it; reinstall it with "mcp-warden install"`);
  }
  const files = await readVerifiedTree(real, pkg.files, what);
  return { name: pkg.name, version: pkg.version, integrity: pkg.integrity, signer: pkg.signer, dir: real, files };
};
