/**
 * The two file primitives of the home: one atomic write and one JSON read.
 *
 * Threat (crash consistency): a process killed mid-write (SIGKILL, full disk, power loss) must never
 * leave a half-written lock, policy or key behind; a reader sees the old file or the new one. The data
 * goes to a temporary file in the same directory, is fsynced, then renamed over the target (atomic on
 * POSIX) — or, for a file that must be created only once (a key), hard-linked into place, which fails if
 * another process got there first — and the directory is fsynced so the rename itself is durable.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { HostError } from '../errors.ts';
import { basename, dirname, join } from 'node:path';

/** The temporary name used while writing `path`: "<name>.<random>.tmp" in the same directory. */
export function tempNameFor(path: string): string {
  return join(dirname(path), `${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

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

export interface AtomicWriteOptions {
  /** Mode of the new file (default 0600: the home's files are the user's alone). */
  readonly mode?: number;
  /** Create only: fail with EEXIST when `path` exists (the file is linked into place, never replaced). */
  readonly exclusive?: boolean;
  /** Runs once the temporary file is durable, before it is renamed (a test hook for crash simulation). */
  readonly beforeRename?: () => Promise<void> | void;
}

/**
 * Writes `data` to `path` atomically: a reader (or a crash) sees the old content or the new, never part.
 * @throws the file system's error (ENOSPC, EROFS, EEXIST with `exclusive` …); the temporary file is removed.
 */
export async function atomicWrite(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  // An output that exists and is not a regular file (a terminal, a pipe, /dev/stdout, /dev/full) is
  // written to, never replaced: a rename over it would swap a device node for a file.
  const existing = await stat(path).catch(() => null);
  if (existing !== null && !existing.isFile() && !existing.isDirectory()) {
    if (options.exclusive) throw Object.assign(new Error(`EEXIST: file already exists, ${path}`), { code: 'EEXIST', path });
    await writeFile(path, data);
    return;
  }
  const tmp = tempNameFor(path);
  try {
    const fh = await open(tmp, 'wx', options.mode ?? 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await options.beforeRename?.();
    if (options.exclusive) await link(tmp, path);
    else await rename(tmp, path);
  } finally {
    // After a rename there is nothing left to remove; after a link (or a failure) the temporary name goes.
    await rm(tmp, { force: true });
  }
  await fsyncDir(dirname(path));
}

/** Why a JSON file could not be used. */
export type JsonReadFailure = 'unreadable' | 'not-json';

/**
 * Reads and parses a JSON file. A missing file is `undefined` (the caller decides what absence means);
 * any other failure is turned into the caller's error by `fail`.
 */
export async function readJsonFile(path: string, fail: (why: JsonReadFailure) => Error): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw fail('unreadable');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw fail('not-json');
  }
}

/**
 * Creates a directory and its missing parents (like `mkdir -p`), refusing a path whose existing part is
 * not a directory. Node's `mkdir(…, { recursive: true })` spins forever on a path under /proc, where
 * mkdir answers ENOENT for a parent that exists; here each level is tried once.
 * @throws HostError PATH_INVALID; OS errors otherwise (mapped by osErrorToHostError)
 */
export async function makeDirectory(dir: string, mode = 0o755, depth = 0): Promise<void> {
  try {
    await mkdir(dir, { mode });
    return;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EEXIST') {
      if ((await stat(dir)).isDirectory()) return;
      throw new HostError('PATH_INVALID', `${dir.slice(0, 300)} exists and is not a directory: choose another path`);
    }
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir || depth > 256) throw e;
    const exists = await stat(parent).then((s) => s.isDirectory(), () => false);
    // The parent exists and mkdir still says ENOENT: a pseudo file system (/proc) where nothing can be made.
    if (exists) throw e;
    await makeDirectory(parent, mode, depth + 1);
  }
  await mkdir(dir, { mode }).catch(async (e: unknown) => {
    if ((e as { code?: string }).code === 'EEXIST' && (await stat(dir)).isDirectory()) return;
    throw e;
  });
}
