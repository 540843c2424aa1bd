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
import { posix } from 'node:path';
import { checkFs, checkFsRemoval, hasUnsafeNameChars, isDeniedFsPath, normalizeAbsolutePath, showUnsafeNameChars } from '../capabilities/fs.ts';
import type { FsAccess, FsGrant, FsRule } from '../capabilities/fs.ts';
import { SandboxError, boundedMessage } from '../errors.ts';
import type { CapabilityEvent, DenyCode, Limits } from '../types.ts';
import { WriteBudget } from './files/quota.ts';
import { removeTree } from './files/remove.ts';
import { anchoredPathsAvailable, at, errnoOf, realPathOf, walk } from './files/walk.ts';
import type { WalkFailed } from './files/walk.ts';

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
}

/** readdir of a larger directory fails (the tool would get it all in one array). */
export const MAX_DIR_ENTRIES = 10_000;

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'already exists',
  EISDIR: 'is a directory',
  ERR_FS_EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ENOTEMPTY: 'directory not empty',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENAMETOOLONG: 'name too long',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EBUSY: 'resource busy',
  ELOOP: 'too many levels of symbolic links',
};

const WHY: Readonly<Record<string, string>> = {
  FS_NOT_GRANTED: 'the path is outside the grant',
  FS_READ_ONLY: 'the path is granted read-only',
  FS_SYMLINK_ESCAPE: 'a symlink leads outside the grant',
};

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

/** The grant with the realpath of each denied path added, taken now: a home moved or re-linked stays denied. */
async function withRealDenied(grant: FsGrant): Promise<FsGrant> {
  const deny = grant.deny ?? [];
  if (deny.length === 0) return grant;
  const reals = await Promise.all(deny.map((d) => fs.realpath(d).catch(() => null)));
  return { rules: grant.rules, deny: [...new Set([...deny, ...reals.filter((r): r is string => r !== null)])] };
}

async function closeQuietly(h: FileHandle | null | undefined): Promise<void> {
  if (h != null) await h.close().catch(() => undefined);
}

/** Creates the per-call file access for `grant` (which should come from resolveFsGrant). */
export function createFileAccess(grant: FsGrant, options: FileAccessOptions): FileAccess {
  const { limits } = options;
  const budget = new WriteBudget(grant, limits);

  class Op {
    readonly name: string;
    readonly asked: string;
    readonly path: string;
    view: FsGrant = grant;
    lexicallyAllowed = false;

    constructor(name: string, asked: unknown) {
      this.name = name;
      // Shown in messages: bounded, and without characters that would forge lines or reorder text.
      this.asked = typeof asked === 'string' ? showUnsafeNameChars(boundedMessage(asked, 300)) : '(not a string)';
      const p = normalizeAbsolutePath(asked);
      if (p === null) throw this.deny('FS_BAD_PATH', 'the path must be an absolute string without NUL');
      this.path = p;
      if (hasUnsafeNameChars(p)) throw this.deny('FS_BAD_NAME', 'the path has a control or bidirectional-formatting character');
    }

    report(allowed: boolean, code?: DenyCode): void {
      const target = showUnsafeNameChars(this.path ?? this.asked);
      options.onEvent?.(code === undefined ? { kind: 'fs', op: this.name, target, allowed } : { kind: 'fs', op: this.name, target, allowed, code });
    }

    deny(code: DenyCode, why: string): SandboxError {
      this.report(false, code);
      return new SandboxError('CAPABILITY_DENIED', `${this.name} ${this.asked} denied (${code}): ${why}`);
    }

    // Messages name only the path the tool asked for: the host's real path may differ and is not its business.
    failed(errno: string, text?: string): SandboxError {
      return new SandboxError('CAPABILITY_FAILED', `${this.name} ${this.asked}: ${text ?? ERRNO_TEXT[errno] ?? 'the file operation failed'}`);
    }

    fail(e: unknown): SandboxError {
      return e instanceof SandboxError ? e : this.failed(errnoOf(e));
    }

    /** Refuses what the path names lexically (denied, read-only); a path outside may still lead inside. */
    async prepare(access: FsAccess): Promise<void> {
      if (!(await anchoredPathsAvailable())) throw this.failed('', 'file access needs Linux with /proc mounted');
      this.view = await withRealDenied(grant);
      const d = checkFs(this.view, access, this.path);
      this.lexicallyAllowed = d.allowed;
      if (!d.allowed && (d.code !== 'FS_NOT_GRANTED' || isDeniedFsPath(this.view, this.path))) throw this.deny(d.code, WHY[d.code] ?? d.detail);
    }

    get roots(): string[] {
      return this.view.rules.map((r) => r.path);
    }

    /**
     * The refusal for a path that resolved to `where`, outside the grant or denied. It depends only on the
     * path asked and on `where`, never on whether anything exists there.
     */
    outside(where: string | null): SandboxError {
      if (!this.lexicallyAllowed || (where !== null && isDeniedFsPath(this.view, where))) return this.deny('FS_NOT_GRANTED', WHY.FS_NOT_GRANTED as string);
      return this.deny('FS_SYMLINK_ESCAPE', WHY.FS_SYMLINK_ESCAPE as string);
    }

    /** A failed walk: the error itself inside the grant, a refusal outside it. */
    failedAt(f: WalkFailed): SandboxError {
      return checkFs(this.view, 'read', f.at).allowed ? this.failed(f.errno) : this.outside(f.at);
    }

    /** Checks the real path of what was opened; `extra` refusals come before the allowed event is reported. */
    authorize(access: FsAccess, real: string | null, extra?: (real: string) => void): string {
      if (real === null) throw this.outside(null);
      const d = checkFs(this.view, access, real);
      if (!d.allowed) {
        if (d.code === 'FS_READ_ONLY') throw this.deny('FS_READ_ONLY', WHY.FS_READ_ONLY as string);
        throw this.outside(real);
      }
      extra?.(real);
      this.report(true);
      return real;
    }

    /** Opens (O_PATH) what the path names, symlinks followed, and checks it. The caller closes the handle. */
    async open(access: FsAccess, inspect?: (st: Stats) => void): Promise<{ handle: FileHandle; stat: Stats }> {
      const w = await walk(this.path, { roots: this.roots });
      if (!w.ok) throw this.failedAt(w);
      try {
        this.authorize(access, await realPathOf(w.handle), () => inspect?.(w.stat));
        return { handle: w.handle, stat: w.stat };
      } catch (e) {
        await closeQuietly(w.handle);
        throw e;
      }
    }

    /** Opens the parent directory (symlinks followed) and checks the entry's real path there. */
    async parent(access: FsAccess, extra?: (real: string) => void): Promise<{ dir: FileHandle; entry: string }> {
      if (this.path === '/') {
        this.authorize(access, '/', extra);
        throw this.failed('EISDIR');
      }
      const entry = posix.basename(this.path);
      const w = await walk(posix.dirname(this.path), { roots: this.roots });
      if (!w.ok) throw this.failedAt(w);
      try {
        const real = await realPathOf(w.handle);
        if (!w.stat.isDirectory()) throw real !== null && checkFs(this.view, 'read', real).allowed ? this.failed('ENOTDIR') : this.outside(real);
        this.authorize(access, real === null ? null : posix.join(real, entry), extra);
        return { dir: w.handle, entry };
      } catch (e) {
        await closeQuietly(w.handle);
        throw e;
      }
    }

    hardLinkCheck(st: Stats): void {
      if (st.isFile() && st.nlink > 1) throw this.deny('FS_HARD_LINK', 'the file has more than one hard link (another may be outside the grant)');
    }
  }

  async function run<T>(name: string, path: unknown, body: (op: Op) => Promise<T>): Promise<T> {
    const op = new Op(name, path);
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
