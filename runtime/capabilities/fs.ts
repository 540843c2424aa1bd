/**
 * File-system capability: rules "read:/path" and "write:/path" (write implies read), parsed once into
 * normalized descriptors; checks are pure and compare whole path segments. Resolving symlinks is the job of
 * runtime/io/files.ts, which calls checkFs with an already-resolved path.
 */
import { posix } from 'node:path';
import { SandboxError } from '../errors.ts';
import type { Decision } from '../types.ts';

export type FsAccess = 'read' | 'write';

export interface FsRule {
  readonly access: FsAccess;
  /** Absolute, normalized, no trailing slash (except the root "/"). */
  readonly path: string;
}

/** A set of file rules. Empty grants nothing (default deny). */
export interface FsGrant {
  readonly rules: readonly FsRule[];
}

const ALLOW: Decision = Object.freeze({ allowed: true });
const MAX_PATH = 4096;

/** Normalizes an absolute POSIX path, or returns null if it is not one (relative, NUL, too long). */
export function normalizeAbsolutePath(p: unknown): string | null {
  if (typeof p !== 'string' || p.length === 0 || p.length > MAX_PATH) return null;
  // A NUL byte truncates the path in the kernel: what was checked would not be what is opened.
  if (p.includes('\0') || !p.startsWith('/')) return null;
  return posix.resolve(p);
}

/** Parses "read:/abs/path" or "write:/abs/path". @throws SandboxError RULE_INVALID */
export function parseFsRule(text: string): FsRule {
  const m = typeof text === 'string' ? /^(read|write):(.*)$/s.exec(text.trim()) : null;
  if (!m) throw new SandboxError('RULE_INVALID', `invalid fs rule ${JSON.stringify(String(text).slice(0, 200))}: expected read:/path or write:/path`);
  const path = normalizeAbsolutePath(m[2]);
  if (path === null) throw new SandboxError('RULE_INVALID', `invalid fs rule ${JSON.stringify(text.slice(0, 200))}: the path must be absolute, without NUL`);
  return { access: m[1] === 'write' ? 'write' : 'read', path };
}

/** Parses a list of rule strings. Duplicates collapse. @throws SandboxError RULE_INVALID */
export function parseFsGrant(texts: readonly string[]): FsGrant {
  return { rules: dedupe(texts.map(parseFsRule)) };
}

/** The canonical rule strings of a grant. */
export function fsGrantToStrings(grant: FsGrant): string[] {
  return grant.rules.map((r) => `${r.access}:${r.path}`);
}

function segments(p: string): string[] {
  return p === '/' ? [] : p.slice(1).split('/');
}

/** Is `p` the directory `root` or inside it? Compared segment by segment: /data does not contain /database. */
export function isWithin(root: string, p: string): boolean {
  const r = segments(root);
  const s = segments(p);
  if (s.length < r.length) return false;
  return r.every((seg, i) => seg === s[i]);
}

/**
 * May `access` be done on `absPath`? `absPath` must already be resolved (realpath): this function does no I/O.
 * FS_BAD_PATH for a path that is not absolute and normalized; FS_READ_ONLY when only read is granted there.
 */
export function checkFs(grant: FsGrant, access: FsAccess, absPath: string): Decision {
  const p = normalizeAbsolutePath(absPath);
  if (p === null || p !== absPath) return { allowed: false, code: 'FS_BAD_PATH', detail: 'the path must be absolute and normalized, without NUL' };
  const covering = grant.rules.filter((r) => isWithin(r.path, p));
  if (covering.length === 0) return { allowed: false, code: 'FS_NOT_GRANTED', detail: 'the path is outside the grant' };
  if (access === 'write' && !covering.some((r) => r.access === 'write')) {
    return { allowed: false, code: 'FS_READ_ONLY', detail: 'the path is granted read-only' };
  }
  return ALLOW;
}

/**
 * The effective grant: each requested rule limited to what `allowed` permits (the deeper path, the weaker
 * access). Never wider than either side; an empty `allowed` yields an empty grant.
 */
export function intersectFsGrants(requested: FsGrant, allowed: FsGrant): FsGrant {
  const out: FsRule[] = [];
  for (const r of requested.rules) {
    for (const a of allowed.rules) {
      const path = isWithin(a.path, r.path) ? r.path : isWithin(r.path, a.path) ? a.path : null;
      if (path === null) continue;
      out.push({ access: r.access === 'write' && a.access === 'write' ? 'write' : 'read', path });
    }
  }
  return { rules: dedupe(out) };
}

function dedupe(rules: readonly FsRule[]): FsRule[] {
  const seen = new Map<string, FsRule>();
  for (const r of rules) {
    const key = `${r.access}:${r.path}`;
    if (!seen.has(key)) seen.set(key, r);
  }
  return [...seen.values()];
}
