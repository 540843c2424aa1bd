/**
 * The verification hook run before an installed package is loaded. serve calls it for every package of
 * lock.json; if it throws, that package is refused (stderr + audit line) and the others still load.
 *
 * Issue 4 (signed install) fills this in: re-check the installed files against the integrity recorded at
 * install (fast, offline, cached where sound) and throw HostError('INTEGRITY_MISMATCH', …) on any
 * difference. Until then it does the structural checks that need no signature: the package directory is
 * a real directory inside <home>/packages (a lock entry or a symlink cannot point the loader elsewhere).
 */
import { lstat, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { HostError } from './errors.ts';
import type { Home, InstalledPackage } from './home.ts';

export type VerifyInstalled = (pkg: InstalledPackage, home: Home) => Promise<void>;

export const verifyInstalled: VerifyInstalled = async (pkg, home) => {
  const dir = join(home.dir, pkg.dir);
  let info;
  try {
    info = await lstat(dir);
  } catch {
    throw new HostError('PACKAGE_INVALID', `installed package ${pkg.name}@${pkg.version} is missing from the home directory`);
  }
  if (!info.isDirectory()) throw new HostError('PACKAGE_INVALID', `installed package ${pkg.name}@${pkg.version} is not a directory`);
  const [root, real] = await Promise.all([realpath(home.packagesDir), realpath(dir)]);
  const rel = relative(root, real);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..') {
    throw new HostError('PACKAGE_INVALID', `installed package ${pkg.name}@${pkg.version} resolves outside the packages directory`);
  }
};
