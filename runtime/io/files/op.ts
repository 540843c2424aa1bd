/**
 * One file operation of a tool: the path it asked for, checked lexically, then resolved from an opened
 * directory (walk.ts) and checked again on the real path of what was opened. Every refusal and failure is
 * phrased here, so that a path outside the grant gets the same answer whether it exists or not.
 */
import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { checkFs, hasUnsafeNameChars, isDeniedFsPath, normalizeAbsolutePath, showUnsafeNameChars } from '../../capabilities/fs.ts';
import type { FsAccess, FsGrant } from '../../capabilities/fs.ts';
import { SandboxError, boundedMessage } from '../../errors.ts';
import type { CapabilityEvent, DenyCode } from '../../types.ts';
import { anchoredPathsAvailable, errnoOf, realPathOf, walk } from './walk.ts';
import type { WalkFailed } from './walk.ts';

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

/** The grant with the realpath of each denied path added, taken now: a home moved or re-linked stays denied. */
async function withRealDenied(grant: FsGrant): Promise<FsGrant> {
  const deny = grant.deny ?? [];
  if (deny.length === 0) return grant;
  const reals = await Promise.all(deny.map((d) => fs.realpath(d).catch(() => null)));
  return { rules: grant.rules, deny: [...new Set([...deny, ...reals.filter((r): r is string => r !== null)])] };
}

export async function closeQuietly(h: FileHandle | null | undefined): Promise<void> {
  if (h != null) await h.close().catch(() => undefined);
}

export class FileOp {
  readonly name: string;
  readonly asked: string;
  readonly path: string;
  readonly #grant: FsGrant;
  readonly #onEvent: ((event: CapabilityEvent) => void) | undefined;
  /** The grant with the realpath of its denied paths, as of this operation (set by prepare). */
  view: FsGrant;
  lexicallyAllowed = false;

  constructor(name: string, asked: unknown, grant: FsGrant, onEvent?: (event: CapabilityEvent) => void) {
    this.name = name;
    this.#grant = grant;
    this.#onEvent = onEvent;
    this.view = grant;
    // Shown in messages: bounded, and without characters that would forge lines or reorder text.
    this.asked = typeof asked === 'string' ? showUnsafeNameChars(boundedMessage(asked, 300)) : '(not a string)';
    const p = normalizeAbsolutePath(asked);
    if (p === null) throw this.deny('FS_BAD_PATH', 'the path must be an absolute string without NUL');
    this.path = p;
    if (hasUnsafeNameChars(p)) throw this.deny('FS_BAD_NAME', 'the path has a control or bidirectional-formatting character');
  }

  report(allowed: boolean, code?: DenyCode): void {
    const target = showUnsafeNameChars(this.path ?? this.asked);
    this.#onEvent?.(code === undefined ? { kind: 'fs', op: this.name, target, allowed } : { kind: 'fs', op: this.name, target, allowed, code });
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
    this.view = await withRealDenied(this.#grant);
    const d = checkFs(this.view, access, this.path);
    this.lexicallyAllowed = d.allowed;
    // Outside every rule, a path may still lead inside through a symlink; with no rules at all, it cannot.
    if (d.allowed) return;
    const mayLeadInside = d.code === 'FS_NOT_GRANTED' && this.view.rules.length > 0 && !isDeniedFsPath(this.view, this.path);
    if (!mayLeadInside) throw this.deny(d.code, WHY[d.code] ?? d.detail);
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
