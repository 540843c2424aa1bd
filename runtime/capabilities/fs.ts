/**
 * File-system capability: rules "read:/path" and "write:/path" (write implies read), parsed once into
 * normalized descriptors, plus denied paths that no rule can open (the user's mcp-warden home, its keys and
 * trust material). Checks are pure and compare whole path segments; deny wins over allow. Resolving
 * symlinks is the job of runtime/io/files.ts, which calls checkFs with an already-resolved path.
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
  /**
   * Absolute, normalized paths refused whatever the rules say (deny wins over allow), with everything
   * below them. runtime/io/files.ts also refuses their realpath, computed again at every operation.
   */
  readonly deny?: readonly string[];
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

// Characters refused in any path a tool names, and left out of readdir: C0 and C1 controls (a newline forges
// lines in logs and listings), DEL, and the bidirectional formatting characters that make a name display as
// another ("invoice\u202Efdp.exe" shows as "invoiceexe.pdf"), plus the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex -- control characters are the point of this expression
const UNSAFE_NAME_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
// eslint-disable-next-line no-control-regex -- as above
const UNSAFE_NAME_CHARS_ALL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Does a file name (or path) contain a control or bidirectional-formatting character? */
export function hasUnsafeNameChars(name: string): boolean {
  return UNSAFE_NAME_CHARS.test(name);
}

/** `text` with every control or bidirectional-formatting character replaced by U+FFFD, for messages and logs. */
export function showUnsafeNameChars(text: string): string {
  return text.replace(UNSAFE_NAME_CHARS_ALL, '\ufffd');
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

/** The canonical rule strings of a grant (its rules; denied paths are not rules and are not listed). */
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
 * A grant that refuses everything within `paths` (and the paths themselves), whatever its rules allow: deny
 * wins over allow, compared by whole segments. The paths should be real paths (realpath); the file access of
 * runtime/io/files.ts also refuses the realpath of each, computed again at every operation, so a path given
 * through a symlink is denied under both spellings.
 * Call it once when a package's grant is built, and keep the result: the cumulative write quota
 * (`grantWriteBytes`) is counted per grant object.
 * @throws SandboxError RULE_INVALID if a path is not absolute or has a NUL byte.
 */
export function denyFsPaths(grant: FsGrant, paths: readonly string[]): FsGrant {
  const deny = [...(grant.deny ?? [])];
  for (const raw of paths) {
    const p = normalizeAbsolutePath(raw);
    if (p === null) throw new SandboxError('RULE_INVALID', `invalid denied path ${JSON.stringify(String(raw).slice(0, 200))}: the path must be absolute, without NUL`);
    if (!deny.includes(p)) deny.push(p);
  }
  return { rules: grant.rules, deny };
}

/** Is `p` within a denied path of the grant? */
export function isDeniedFsPath(grant: FsGrant, p: string): boolean {
  return (grant.deny ?? []).some((d) => isWithin(d, p));
}

/**
 * May `access` be done on `absPath`? `absPath` must already be resolved (realpath): this function does no I/O.
 * FS_BAD_PATH for a path that is not absolute and normalized; FS_NOT_GRANTED outside every rule or within a
 * denied path; FS_READ_ONLY when only read is granted there.
 */
export function checkFs(grant: FsGrant, access: FsAccess, absPath: string): Decision {
  const p = normalizeAbsolutePath(absPath);
  if (p === null || p !== absPath) return { allowed: false, code: 'FS_BAD_PATH', detail: 'the path must be absolute and normalized, without NUL' };
  if (isDeniedFsPath(grant, p)) return { allowed: false, code: 'FS_NOT_GRANTED', detail: 'the path is outside the grant' };
  const covering = grant.rules.filter((r) => isWithin(r.path, p));
  if (covering.length === 0) return { allowed: false, code: 'FS_NOT_GRANTED', detail: 'the path is outside the grant' };
  if (access === 'write' && !covering.some((r) => r.access === 'write')) {
    return { allowed: false, code: 'FS_READ_ONLY', detail: 'the path is granted read-only' };
  }
  return ALLOW;
}

/**
 * May the (resolved) path `absPath` be removed? Never a grant root or a denied path, nor a directory holding
 * one: that would take away more than the write grant covers. The write check itself is checkFs's.
 */
export function checkFsRemoval(grant: FsGrant, absPath: string): Decision {
  const held = [...grant.rules.map((r) => r.path), ...(grant.deny ?? [])];
  if (held.some((root) => isWithin(absPath, root))) return { allowed: false, code: 'FS_NOT_GRANTED', detail: 'a grant root or a denied path cannot be removed' };
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
  // What either side denies stays denied.
  const deny = [...new Set([...(requested.deny ?? []), ...(allowed.deny ?? [])])];
  return deny.length === 0 ? { rules: dedupe(out) } : { rules: dedupe(out), deny };
}

function dedupe(rules: readonly FsRule[]): FsRule[] {
  const seen = new Map<string, FsRule>();
  for (const r of rules) {
    const key = `${r.access}:${r.path}`;
    if (!seen.has(key)) seen.set(key, r);
  }
  return [...seen.values()];
}
