/**
 * Recursive removal anchored to opened directories: every entry is removed through /proc/self/fd/<dir>/<name>
 * and subdirectories are opened with O_NOFOLLOW, so a directory swapped for a symlink while we remove never
 * leads the removal outside the tree it started in.
 */
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { SandboxError } from '../../errors.ts';
import { at, errnoOf } from './walk.ts';

/** Deeper trees are refused (each level holds one open descriptor). */
export const MAX_REMOVE_DEPTH = 256;

/** Removes the entry `name` of the opened directory `parent`, and everything below it. */
export async function removeTree(parent: FileHandle, name: string, what: string, depth = 0): Promise<void> {
  let dir: FileHandle;
  try {
    dir = await fs.open(at(parent, name), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (e) {
    // Not a directory (any more): a symlink or a file is removed itself, never followed.
    if (errnoOf(e) === 'ELOOP' || errnoOf(e) === 'ENOTDIR') return fs.unlink(at(parent, name));
    throw e;
  }
  try {
    if (depth >= MAX_REMOVE_DEPTH) throw new SandboxError('CAPABILITY_FAILED', `${what}: the directory tree is deeper than ${MAX_REMOVE_DEPTH} levels`);
    for (const entry of await fs.readdir(at(dir))) {
      const st = await fs.lstat(at(dir, entry)).catch((e: unknown) => {
        if (errnoOf(e) === 'ENOENT') return null;
        throw e;
      });
      if (st === null) continue;
      if (st.isDirectory()) await removeTree(dir, entry, what, depth + 1);
      else await fs.unlink(at(dir, entry));
    }
  } finally {
    await dir.close();
  }
  await fs.rmdir(at(parent, name));
}
