/**
 * Host-side enforcement of a tool's file access (Linux). Every operation resolves the path one component
 * at a time from an opened directory, never following a symlink in the kernel (runtime/io/files/walk.ts),
 * and runs the pure checkFs on the real path of what it opened, so neither a symlink in the grant nor
 * another local process swapping a directory for a symlink can lead an operation outside the grant. Writes
 * are atomic (a temp file created in the opened directory, renamed over the target there) and never
 * follow or create symlinks.
 *
 * Refused on purpose: a regular file with more than one hard link (another link may be outside the grant),
 * names with control or bidirectional-formatting characters, writes past the cumulative quotas, and
 * directories with more than MAX_DIR_ENTRIES entries. A refusal for a path outside the grant reads the same
 * whether that path exists or not.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { checkFs, checkFsRemoval, hasUnsafeNameChars } from '../capabilities/fs.ts';
import type { FsGrant, FsRule } from '../capabilities/fs.ts';
import { SandboxError } from '../errors.ts';
import type { CapabilityEvent, Limits } from '../types.ts';
import { FileOp, closeQuietly } from './files/op.ts';
import { WriteBudget } from './files/quota.ts';
export { WriteBudget };
import { removeTree } from './files/remove.ts';
import { at, errnoOf, realPathOf, walk } from './files/walk.ts';

export type FileKind = 'file' | 'directory' | 'symlink' | 'other';

export interface FileEntry {
  readonly name: string;
  readonly kind: FileKind;
}

export interface FileStat {
  readonly kind: FileKind;
  readonly size: number;
  readonly mtimeMs: number;
}

/** The file operations a tool may request, each checked against the grant on every call. */
export interface FileAccess {
  readFile(path: string, encoding: 'utf8' | null): Promise<string | Uint8Array>;
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
  readdir(path: string): Promise<FileEntry[]>;
  stat(path: string): Promise<FileStat>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<void>;
  rm(path: string, options?: { recursive?: boolean }): Promise<void>;
}

export interface FileAccessOptions {
  readonly limits: Pick<Limits, 'maxReadBytes' | 'maxWriteBytes' | 'writeBytes' | 'grantWriteBytes'>;
  readonly onEvent?: (event: CapabilityEvent) => void;
  /**
   * The write budget to charge (default: one of its own over `grant`). A call's accesses under a grant widened
   * by a consented rule share the call's budget over the package's grant (runtime/host-calls.ts): consent
   * adds a place to write, never more bytes.
   */
  readonly budget?: WriteBudget;
}

/** readdir of a larger directory fails (the tool would get it all in one array). */
export const MAX_DIR_ENTRIES = 10_000;

function kindOf(d: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): FileKind {
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'directory';
  return 'other';
}

/**
 * Realpaths every rule of a grant, so that grant roots and the paths checked against them are compared in
 * the same (resolved) form. Call once when the grant is built. Denied paths are kept as given (each
 * operation refuses them and their realpath).
 * @throws SandboxError RULE_INVALID if a rule's path does not exist.
 */
export async function resolveFsGrant(grant: FsGrant): Promise<FsGrant> {
  const rules: FsRule[] = [];
  const seen = new Set<string>();
  for (const r of grant.rules) {
    let real: string;
    try {
      real = await fs.realpath(r.path);
    } catch {
      throw new SandboxError('RULE_INVALID', `invalid fs rule "${r.access}:${r.path}": the path does not exist`);
    }
    const key = `${r.access}:${real}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rules.push({ access: r.access, path: real });
  }
  return grant.deny === undefined ? { rules } : { rules, deny: grant.deny };
}

/** Creates the per-call file access for `grant` (which should come from resolveFsGrant). */
export function createFileAccess(grant: FsGrant, options: FileAccessOptions): FileAccess {
  const { limits } = options;
  const budget = options.budget ?? new WriteBudget(grant, limits);

  async function run<T>(name: string, path: unknown, body: (op: FileOp) => Promise<T>): Promise<T> {
    const op = new FileOp(name, path, grant, options.onEvent);
    try {
      return await body(op);
    } catch (e) {
      throw op.fail(e);
    }
  }

  async function lstatEntry(dir: FileHandle, entry: string): Promise<Stats | null> {
    return fs.lstat(at(dir, entry)).catch((e: unknown) => {
      if (errnoOf(e) === 'ENOENT') return null;
      throw e;
    });
  }

  return {
    readFile(path, encoding) {
      return run('readFile', path, async (op) => {
        await op.prepare('read');
        const { handle, stat } = await op.open('read', (st) => op.hardLinkCheck(st));
        let fh: FileHandle | null = null;
        try {
          if (!stat.isFile()) throw op.failed('', 'not a regular file');
          if (stat.size > limits.maxReadBytes) throw op.failed('', `file exceeds ${limits.maxReadBytes} bytes`);
          // Reopen the very object we checked, through its descriptor (never by path again).
          fh = await fs.open(at(handle), constants.O_RDONLY | constants.O_NONBLOCK);
          const st = await fh.stat();
          if (st.ino !== stat.ino || st.dev !== stat.dev) throw op.failed('', 'the file changed while it was opened');
          // Read at most one byte past the cap: a file that grows after fstat is still bounded.
          const buf = Buffer.alloc(Math.min(st.size, limits.maxReadBytes) + 1);
          let n = 0;
          for (;;) {
            const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
            if (bytesRead === 0) break;
            n += bytesRead;
            if (n > limits.maxReadBytes) throw op.failed('', `file exceeds ${limits.maxReadBytes} bytes`);
            if (n === buf.length) break;
          }
          const data = buf.subarray(0, n);
          return encoding === 'utf8' ? data.toString('utf8') : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        } finally {
          await closeQuietly(fh);
          await closeQuietly(handle);
        }
      });
    },

    writeFile(path, data) {
      return run('writeFile', path, async (op) => {
        const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
        if (bytes.byteLength > limits.maxWriteBytes) throw op.failed('', `data exceeds ${limits.maxWriteBytes} bytes`);
        const over = budget.reserve(bytes.byteLength);
        if (over !== null) {
          const whose = over === 'writeBytes' ? "the call's" : "the package's";
          throw new SandboxError('QUOTA_EXCEEDED', `writeFile ${op.asked}: ${whose} write quota (${over}: ${budget.limitOf(over)} bytes) is used up`);
        }
        let written = false;
        try {
          await op.prepare('write');
          const { dir, entry } = await op.parent('write');
          try {
            const existing = await lstatEntry(dir, entry);
            if (existing?.isSymbolicLink()) throw op.deny('FS_SYMLINK_ESCAPE', 'the path is a symlink');
            if (existing?.isDirectory() === true) throw op.failed('EISDIR');
            if (existing !== null && !existing.isFile()) throw op.failed('', 'not a regular file');
            // Temp file in the opened directory, created exclusively (never an existing file or link), then
            // renamed over the target there: readers see the old or the new content, never a half-written
            // file, and a hard-linked target is replaced, never written through.
            const tmp = `.warden-${randomBytes(8).toString('hex')}.tmp`;
            const fh = await fs.open(at(dir, tmp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, existing ? existing.mode & 0o777 : 0o666);
            try {
              try {
                await fh.writeFile(bytes);
                await fh.datasync();
              } finally {
                await fh.close();
              }
              await fs.rename(at(dir, tmp), at(dir, entry));
              written = true;
            } finally {
              if (!written) await fs.unlink(at(dir, tmp)).catch(() => undefined);
            }
          } finally {
            await closeQuietly(dir);
          }
        } finally {
          if (!written) budget.refund(bytes.byteLength);
        }
      });
    },

    readdir(path) {
      return run('readdir', path, async (op) => {
        await op.prepare('read');
        const { handle, stat } = await op.open('read');
        try {
          if (!stat.isDirectory()) throw op.failed('ENOTDIR');
          const out: FileEntry[] = [];
          let count = 0;
          const dir = await fs.opendir(at(handle), { bufferSize: 128 });
          try {
            for (let d = await dir.read(); d !== null; d = await dir.read()) {
              if (++count > MAX_DIR_ENTRIES) throw op.failed('', `the directory has more than ${MAX_DIR_ENTRIES} entries`);
              // A name the tool could not address (control or bidi characters) is left out.
              if (!hasUnsafeNameChars(d.name)) out.push({ name: d.name, kind: kindOf(d) });
            }
          } finally {
            await dir.close().catch(() => undefined);
          }
          return out;
        } finally {
          await closeQuietly(handle);
        }
      });
    },

    stat(path) {
      return run('stat', path, async (op) => {
        await op.prepare('read');
        const { handle, stat } = await op.open('read', (st) => op.hardLinkCheck(st));
        await closeQuietly(handle);
        return { kind: kindOf(stat), size: stat.size, mtimeMs: stat.mtimeMs };
      });
    },

    mkdir(path, opts = {}) {
      return run('mkdir', path, async (op) => {
        await op.prepare('write');
        if (opts.recursive === true) {
          // mkdir -p: each missing directory is created in the opened one above it, where write is granted.
          const w = await walk(op.path, { roots: op.roots, create: (real) => checkFs(op.view, 'write', real).allowed });
          if (!w.ok) throw op.failedAt(w);
          try {
            op.authorize('write', await realPathOf(w.handle));
            if (!w.stat.isDirectory()) throw op.failed('EEXIST');
          } finally {
            await closeQuietly(w.handle);
          }
          return;
        }
        const { dir, entry } = await op.parent('write');
        try {
          if ((await lstatEntry(dir, entry))?.isSymbolicLink()) throw op.deny('FS_SYMLINK_ESCAPE', 'the path is a symlink');
          await fs.mkdir(at(dir, entry), { mode: 0o777 });
        } finally {
          await closeQuietly(dir);
        }
      });
    },

    rm(path, opts = {}) {
      return run('rm', path, async (op) => {
        await op.prepare('write');
        // Removing a grant root or a denied path, or a directory holding one (say a read-only root nested
        // in a writable one), would take away more than the write grant covers.
        const { dir, entry } = await op.parent('write', (real) => {
          const d = checkFsRemoval(op.view, real);
          if (!d.allowed) throw op.deny(d.code, d.detail);
        });
        try {
          const st = await fs.lstat(at(dir, entry));
          if (!st.isDirectory()) await fs.unlink(at(dir, entry));
          else if (opts.recursive !== true) throw op.failed('EISDIR');
          else await removeTree(dir, entry, `rm ${op.asked}`);
        } finally {
          await closeQuietly(dir);
        }
      });
    },
  };
}
