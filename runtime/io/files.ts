/**
 * Host-side enforcement of a tool's file access. Every operation resolves the path with realpath first and
 * runs the pure checkFs on the real path, so a symlink inside the grant cannot lead outside it. Writes are
 * atomic (temp file + rename) and never follow or create symlinks.
 *
 * Residual risk: another host process that swaps a directory for a symlink between the check and the
 * operation can race us; the tool itself cannot create symlinks or rename through this API.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import { posix } from 'node:path';
import { checkFs, isWithin, normalizeAbsolutePath } from '../capabilities/fs.ts';
import type { FsAccess, FsGrant, FsRule } from '../capabilities/fs.ts';
import { SandboxError, boundedMessage } from '../errors.ts';
import type { CapabilityEvent, DenyCode, Limits } from '../types.ts';

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
  readonly limits: Pick<Limits, 'maxReadBytes' | 'maxWriteBytes'>;
  readonly onEvent?: (event: CapabilityEvent) => void;
}

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
};

function errnoOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function kindOf(d: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): FileKind {
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'directory';
  return 'other';
}

/**
 * Realpaths every rule of a grant, so that grant roots and the paths checked against them are compared in
 * the same (resolved) form. Call once when the grant is built.
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
  return { rules };
}

/** Creates the per-call file access for `grant` (which should come from resolveFsGrant). */
export function createFileAccess(grant: FsGrant, options: FileAccessOptions): FileAccess {
  const { limits } = options;

  class Op {
    readonly name: string;
    readonly asked: string;
    readonly path: string;
    constructor(name: string, asked: unknown) {
      this.name = name;
      this.asked = typeof asked === 'string' ? boundedMessage(asked, 300) : '(not a string)';
      const p = normalizeAbsolutePath(asked);
      if (p === null) throw this.deny('FS_BAD_PATH', 'the path must be an absolute string without NUL');
      this.path = p;
    }

    report(allowed: boolean, code?: DenyCode): void {
      const target = this.path ?? this.asked;
      options.onEvent?.(code === undefined ? { kind: 'fs', op: this.name, target, allowed } : { kind: 'fs', op: this.name, target, allowed, code });
    }

    deny(code: DenyCode, why: string): SandboxError {
      this.report(false, code);
      return new SandboxError('CAPABILITY_DENIED', `${this.name} ${this.asked} denied (${code}): ${why}`);
    }

    // Messages name only the path the tool asked for: the host's real path may differ and is not its business.
    fail(e: unknown): SandboxError {
      if (e instanceof SandboxError) return e;
      const code = errnoOf(e);
      if (code === 'ELOOP') return this.deny('FS_SYMLINK_ESCAPE', 'the path is a symlink');
      return new SandboxError('CAPABILITY_FAILED', `${this.name} ${this.asked}: ${ERRNO_TEXT[code] ?? 'the file operation failed'}`);
    }

    /** Checks the resolved path; a path that is inside lexically but outside once resolved is a symlink escape. */
    authorize(access: FsAccess, real: string, extra?: (real: string) => void): string {
      const d = checkFs(grant, access, real);
      if (!d.allowed) {
        const lexical = checkFs(grant, access, this.path);
        if (lexical.allowed) throw this.deny('FS_SYMLINK_ESCAPE', 'a symlink leads outside the grant');
        throw this.deny(d.code, d.code === 'FS_READ_ONLY' ? 'the path is granted read-only' : 'the path is outside the grant');
      }
      extra?.(real);
      this.report(true);
      return real;
    }

    /** For operations that follow symlinks (read, readdir, stat): realpath of the whole path. */
    async resolveFollow(access: FsAccess): Promise<string> {
      return this.authorize(access, await this.realpathLenient(this.path));
    }

    /** For operations on the entry itself (write, mkdir, rm): realpath of the parent, then the last name. */
    async resolveEntry(access: FsAccess, extra?: (real: string) => void): Promise<string> {
      if (this.path === '/') return this.authorize(access, '/', extra);
      const parent = await this.realpathLenient(posix.dirname(this.path));
      return this.authorize(access, posix.join(parent, posix.basename(this.path)), extra);
    }

    /** realpath of the deepest existing ancestor, with the missing rest re-appended. */
    async realpathLenient(p: string): Promise<string> {
      const rest: string[] = [];
      let cur = p;
      for (;;) {
        try {
          const real = await fs.realpath(cur);
          return rest.length === 0 ? real : posix.join(real, ...rest.reverse());
        } catch (e) {
          if (errnoOf(e) !== 'ENOENT' || cur === '/') throw this.fail(e);
        }
        // A dangling symlink: where it points is unknown until created, so it cannot be checked.
        const exists = await fs.lstat(cur).then(
          () => true,
          () => false,
        );
        if (exists) throw this.deny('FS_SYMLINK_ESCAPE', 'the path goes through a dangling symlink');
        rest.push(posix.basename(cur));
        cur = posix.dirname(cur);
      }
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

  return {
    readFile(path, encoding) {
      return run('readFile', path, async (op) => {
        const real = await op.resolveFollow('read');
        // O_NONBLOCK: opening a FIFO must not hang the host; O_NOFOLLOW: the checked path is the opened one.
        const fh = await fs.open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
        try {
          const st = await fh.stat();
          if (!st.isFile()) throw new SandboxError('CAPABILITY_FAILED', `readFile ${op.asked}: not a regular file`);
          if (st.size > limits.maxReadBytes) throw new SandboxError('CAPABILITY_FAILED', `readFile ${op.asked}: file exceeds ${limits.maxReadBytes} bytes`);
          // Read at most one byte past the cap: a file that grows after fstat is still bounded.
          const buf = Buffer.alloc(Math.min(st.size, limits.maxReadBytes) + 1);
          let n = 0;
          for (;;) {
            const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
            if (bytesRead === 0) break;
            n += bytesRead;
            if (n > limits.maxReadBytes) throw new SandboxError('CAPABILITY_FAILED', `readFile ${op.asked}: file exceeds ${limits.maxReadBytes} bytes`);
            if (n === buf.length) break;
          }
          const data = buf.subarray(0, n);
          return encoding === 'utf8' ? data.toString('utf8') : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        } finally {
          await fh.close();
        }
      });
    },

    writeFile(path, data) {
      return run('writeFile', path, async (op) => {
        const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
        if (bytes.byteLength > limits.maxWriteBytes) throw new SandboxError('CAPABILITY_FAILED', `writeFile ${op.asked}: data exceeds ${limits.maxWriteBytes} bytes`);
        const real = await op.resolveEntry('write');
        const existing = await fs.lstat(real).catch((e: unknown) => {
          if (errnoOf(e) === 'ENOENT') return null;
          throw e;
        });
        if (existing?.isSymbolicLink()) throw op.deny('FS_SYMLINK_ESCAPE', 'refusing to write through a symlink');
        if (existing !== null && !existing.isFile()) throw new SandboxError('CAPABILITY_FAILED', `writeFile ${op.asked}: not a regular file`);
        // Temp file beside the target, created exclusively (never an existing file or link), then renamed
        // over it: readers see the old or the new content, never a half-written file.
        const tmp = posix.join(posix.dirname(real), `.warden-${randomBytes(8).toString('hex')}.tmp`);
        const fh = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, existing ? existing.mode & 0o777 : 0o666);
        try {
          try {
            await fh.writeFile(bytes);
            await fh.datasync();
          } finally {
            await fh.close();
          }
          await fs.rename(tmp, real);
        } catch (e) {
          await fs.unlink(tmp).catch(() => undefined);
          throw e;
        }
      });
    },

    readdir(path) {
      return run('readdir', path, async (op) => {
        const real = await op.resolveFollow('read');
        const entries = await fs.readdir(real, { withFileTypes: true });
        return entries.map((d) => ({ name: d.name, kind: kindOf(d) }));
      });
    },

    stat(path) {
      return run('stat', path, async (op) => {
        const real = await op.resolveFollow('read');
        const st = await fs.stat(real);
        return { kind: kindOf(st), size: st.size, mtimeMs: st.mtimeMs };
      });
    },

    mkdir(path, opts = {}) {
      return run('mkdir', path, async (op) => {
        const real = await op.resolveEntry('write');
        await fs.mkdir(real, { recursive: opts.recursive === true });
      });
    },

    rm(path, opts = {}) {
      return run('rm', path, async (op) => {
        // Removing a grant root, or a directory holding one (say a read-only root nested in a writable one),
        // would take away more than the write grant covers.
        const real = await op.resolveEntry('write', (r) => {
          if (grant.rules.some((rule) => isWithin(r, rule.path))) throw op.deny('FS_NOT_GRANTED', 'a grant root cannot be removed');
        });
        await fs.rm(real, { recursive: opts.recursive === true, force: false });
      });
    },
  };
}
