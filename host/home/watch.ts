/**
 * Watching the home for changes of lock.json (install, remove, grant, revoke) and quarantine.json (a
 * quarantine, `enable`), so a running serve reloads.
 *
 * A watch on a directory follows its inode: after the home is deleted and re-created, a plain watch
 * would keep watching the dead directory and serve would never see an install again. So the parent
 * directory is watched too, for the home's own name: when the home appears (or is replaced), the
 * home's watch is re-armed on the new directory and a change is reported.
 */
import { statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Home } from './home.ts';

export interface HomeWatcher {
  close(): void;
}

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/**
 * Calls `onChange` when lock.json may have changed, including after the home was deleted and created
 * again. @returns a handle to stop watching; `undefined` when nothing can be watched here.
 */
export function watchHome(home: Home, onChange: () => void): HomeWatcher | undefined {
  let dirWatcher: FSWatcher | undefined;
  let watchedInode: number | undefined;
  const arm = (): void => {
    dirWatcher?.close();
    dirWatcher = undefined;
    watchedInode = inodeOf(home.dir);
    if (watchedInode === undefined) return;
    try {
      dirWatcher = watch(home.dir, (_event, file) => {
        if (file === 'lock.json' || file === 'quarantine.json') onChange();
      });
      dirWatcher.on('error', () => {
        // The directory went away: the parent's watch re-arms when it comes back.
        dirWatcher?.close();
        dirWatcher = undefined;
      });
    } catch {
      dirWatcher = undefined;
    }
  };
  arm();
  let parentWatcher: FSWatcher | undefined;
  try {
    const name = basename(home.dir);
    parentWatcher = watch(dirname(home.dir), (_event, file) => {
      if (file !== name) return;
      const now = inodeOf(home.dir);
      if (now === watchedInode && dirWatcher !== undefined) return;
      arm();
      onChange();
    });
    parentWatcher.on('error', () => {});
  } catch {
    parentWatcher = undefined;
  }
  if (dirWatcher === undefined && parentWatcher === undefined) return undefined;
  return {
    close: () => {
      dirWatcher?.close();
      parentWatcher?.close();
    },
  };
}
