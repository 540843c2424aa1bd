/**
 * The size limits of a tool package: one set, applied by `pack` (before anything is signed), by
 * `install` (to the verified tarball) and by `serve` (to what it loads), so a package `pack` accepts is
 * never refused later for its size or shape.
 */
import { HostError } from '../errors.ts';

export const PACKAGE_LIMITS = Object.freeze({
  /** Largest package.json, bytes. */
  maxPackageJsonBytes: 1024 * 1024,
  /** Largest entry file (the code loaded into the isolate), bytes. */
  maxEntryBytes: 8 * 1024 * 1024,
  /** Largest other file, bytes. */
  maxFileBytes: 64 * 1024 * 1024,
  /** Most files in a package. */
  maxFiles: 10_000,
  /** Largest .tgz, bytes. */
  maxTarballBytes: 32 * 1024 * 1024,
  /** Largest uncompressed tar stream (headers included), bytes: the gzip-bomb cap. */
  maxUnpackedBytes: 128 * 1024 * 1024,
});

/**
 * Checks package.json and the entry file against the limits: both present, regular files, within size.
 * `files` maps package-relative paths of regular files to their sizes.
 * @throws HostError PACKAGE_INVALID
 */
export function checkPackageFiles(label: string, entry: string, files: ReadonlyMap<string, number>): void {
  const pj = files.get('package.json');
  if (pj === undefined) throw new HostError('PACKAGE_INVALID', `${label}: package.json is missing`);
  if (pj > PACKAGE_LIMITS.maxPackageJsonBytes) throw new HostError('PACKAGE_INVALID', `${label}: package.json is larger than ${PACKAGE_LIMITS.maxPackageJsonBytes} bytes`);
  const size = files.get(entry);
  if (size === undefined) throw new HostError('PACKAGE_INVALID', `${label}: the entry "${entry}" is not a file in the package`);
  if (size > PACKAGE_LIMITS.maxEntryBytes) throw new HostError('PACKAGE_INVALID', `${label}: the entry file is larger than ${PACKAGE_LIMITS.maxEntryBytes} bytes`);
}
