/**
 * Race-free path resolution for runtime/io/files.ts (Linux). Node has no openat(), but a path that runs
 * through /proc/self/fd/<fd>/ is looked up from the directory <fd> refers to, whatever happens to its path
 * meanwhile. So a path is walked one component at a time from an opened directory, each component opened
 * with O_NOFOLLOW (and O_PATH: opening never has side effects, even on a FIFO or a device), and symlinks
 * are followed by hand. Whatever another local process swaps while we walk, the object we end on is the
 * one we opened, and its real path (readlink of /proc/self/fd/<fd>) is what the caller checks.
 */
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { isWithin } from '../../capabilities/fs.ts';

/** Linux O_PATH (the same value on every architecture Node ships for, but alpha, parisc and sparc). */
const O_PATH = 0o10000000;
const OPEN_PATH = O_PATH | constants.O_NOFOLLOW;
const OPEN_DIR = O_PATH | constants.O_DIRECTORY;
/** Symlinks followed in one resolution, as the kernel's own limit. */
const MAX_HOPS = 40;

/** The path through which the kernel reaches what `dir` refers to (and `name` within it). */
export function at(dir: FileHandle, name?: string): string {
  return name === undefined ? `/proc/self/fd/${dir.fd}` : `/proc/self/fd/${dir.fd}/${name}`;
}

export function errnoOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EIO';
}

/** The real path of an opened object, as the kernel knows it; null for one without a path. */
export async function realPathOf(handle: FileHandle): Promise<string | null> {
  const p = await fs.readlink(at(handle));
  return p.startsWith('/') ? p : null;
}

let procChecked: Promise<boolean> | null = null;

/** Is fd-anchored resolution available here (Linux with /proc mounted)? */
export function anchoredPathsAvailable(): Promise<boolean> {
  procChecked ??= (async () => {
    if (process.platform !== 'linux') return false;
    try {
      const h = await fs.open('/', OPEN_DIR);
      try {
        return (await realPathOf(h)) === '/';
      } finally {
        await h.close();
      }
    } catch {
      return false;
    }
  })();
  return procChecked;
}

/** The object a walk ended on: an O_PATH handle on it, and its fstat. */
export interface Walked {
  readonly ok: true;
  readonly handle: FileHandle;
  readonly stat: Stats;
}

/** Where a walk failed: the error, and the (lexical) path of the object it failed on. */
export interface WalkFailed {
  readonly ok: false;
  readonly errno: string;
  readonly at: string;
}

export interface WalkOptions {
  /** Directories to start from when the path is within one (the grant's roots, as real paths). */
  readonly roots: readonly string[];
  /** Called with the real path of a missing component: true creates it as a directory (mkdir -p). */
  readonly create?: (path: string) => boolean;
}

type Step = Walked | WalkFailed | { readonly ok: 'link'; readonly target: string; readonly at: string };

function segments(p: string): string[] {
  return p === '/' ? [] : p.slice(1).split('/');
}


/** Opens the deepest root containing `target` (verified to be that directory), else "/". */
async function anchorFor(target: string, roots: readonly string[]): Promise<{ handle: FileHandle; pos: string; rest: string[] }> {
  const candidates = roots.filter((r) => isWithin(r, target)).sort((a, b) => b.length - a.length);
  for (const root of candidates) {
    let h: FileHandle | null = null;
    try {
      h = await fs.open(root, OPEN_DIR);
      // Opening by path follows whatever its ancestors are now: keep it only if it is still the root.
      if ((await realPathOf(h)) === root) return { handle: h, pos: root, rest: segments(target).slice(segments(root).length) };
    } catch {
      // not there (any more): start from "/"
    }
    if (h !== null) release(h);
  }
  return { handle: await fs.open('/', OPEN_DIR), pos: '/', rest: segments(target) };
}

/** Closes a descriptor we are done with, without waiting for it. */
function release(h: FileHandle): void {
  h.close().catch(() => undefined);
}

/** Walks `rest` from `dir` (owned: closed unless returned), one no-follow component at a time. */
async function stepFrom(dir: FileHandle, pos: string, rest: readonly string[], options: WalkOptions): Promise<Step> {
  let cur: FileHandle | null = dir;
  let here = pos;
  try {
    for (let i = 0; i < rest.length; i++) {
      const name = rest[i] as string;
      const next = posix.join(here, name);
      const last = i === rest.length - 1;
      let h: FileHandle | null = null;
      let st: Stats | null = null;
      try {
        // A directory on the way in one call; a symlink or a file fails with ENOTDIR and is looked at below.
        h = await fs.open(at(cur, name), last ? OPEN_PATH : OPEN_PATH | constants.O_DIRECTORY);
      } catch (e) {
        const errno = errnoOf(e);
        if (errno === 'ENOENT' && options.create !== undefined) {
          // Created only where the directory we hold really is (not where we believe it is) allows it.
          const real = await realPathOf(cur).catch(() => null);
          if (real === null || !options.create(posix.join(real, name))) return { ok: false, errno: 'ENOENT', at: next };
          try {
            await fs.mkdir(at(cur, name), { mode: 0o777 });
          } catch (e2) {
            if (errnoOf(e2) !== 'EEXIST') return { ok: false, errno: errnoOf(e2), at: next };
          }
          try {
            h = await fs.open(at(cur, name), last ? OPEN_PATH : OPEN_PATH | constants.O_DIRECTORY);
          } catch (e2) {
            return { ok: false, errno: errnoOf(e2), at: next };
          }
        } else if (errno === 'ENOTDIR') {
          try {
            st = await fs.lstat(at(cur, name));
          } catch (e2) {
            return { ok: false, errno: errnoOf(e2), at: next };
          }
          if (!st.isSymbolicLink()) return { ok: false, errno: 'ENOTDIR', at: next };
        } else {
          return { ok: false, errno, at: next };
        }
      }
      // Opened with O_DIRECTORY | O_NOFOLLOW, a component on the way is a real directory: no fstat needed.
      if (h !== null && !last) {
        release(cur);
        cur = h;
        here = next;
        continue;
      }
      if (h !== null) {
        try {
          st = await h.stat();
        } catch (e) {
          release(h);
          return { ok: false, errno: errnoOf(e), at: next };
        }
      }
      if (st?.isSymbolicLink() === true) {
        if (h !== null) release(h);
        // Read the link through its directory, then start over from its target: never through the kernel's
        // own following, so every hop is checked like the first one.
        let text: string;
        try {
          text = await fs.readlink(at(cur, name));
        } catch (e) {
          return { ok: false, errno: errnoOf(e), at: next };
        }
        return { ok: 'link', target: posix.resolve(here, text, ...rest.slice(i + 1)), at: next };
      }
      if (h === null || st === null) return { ok: false, errno: 'ENOTDIR', at: next };
      // The last component, opened.
      release(cur);
      cur = null;
      return { ok: true, handle: h, stat: st };
    }
    // Nothing left to walk: the anchor itself.
    const handle = cur;
    const stat = await handle.stat();
    cur = null;
    return { ok: true, handle, stat };
  } finally {
    if (cur !== null) release(cur);
  }
}

/**
 * Resolves the absolute, normalized `path`, following symlinks (by hand, at most 40), and returns an O_PATH
 * handle on what it names, or where it failed. The caller must check realPathOf(handle) before using it.
 */
export async function walk(path: string, options: WalkOptions): Promise<Walked | WalkFailed> {
  let target = path;
  let lastLink = path;
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    let anchor: { handle: FileHandle; pos: string; rest: string[] };
    try {
      anchor = await anchorFor(target, options.roots);
    } catch (e) {
      return { ok: false, errno: errnoOf(e), at: '/' };
    }
    let step: Step;
    try {
      step = await stepFrom(anchor.handle, anchor.pos, anchor.rest, options);
    } catch (e) {
      return { ok: false, errno: errnoOf(e), at: anchor.pos };
    }
    if (step.ok !== 'link') return step;
    target = step.target;
    lastLink = step.at;
  }
  return { ok: false, errno: 'ELOOP', at: lastLink };
}
