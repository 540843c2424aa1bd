/**
 * What the audit trail records, as data (host/serve/audit.ts writes it): the record types, a capability
 * event as the records it becomes, and the digest of a call's arguments.
 *
 * Threat: arguments carry user data and secrets (tokens, file contents, prompts). They are recorded only as
 * an HMAC-SHA256 of their canonical text (argsDigest) under a per-home random key (<home>/audit.key, 0600): equal
 * arguments give equal digests, so calls can be correlated, but a reader of the log alone cannot confirm
 * a guessed value (a plain hash of "yes" or of a short PIN would be trivially reversed).
 */
import { createHmac } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { CapabilityEvent } from '../../runtime/index.ts';
import { canonicalJson } from '../canonical-json.ts';

export interface CallRecord {
  readonly package: string;
  readonly version: string;
  readonly tool: string;
  /** What ran, when not a tool: a resource template's, prompt's or completion's handler (its name is `tool`). */
  readonly kind?: 'resource' | 'prompt' | 'completion';
  readonly argsDigest: string;
  readonly durationMs: number;
  /** "ok", or the stable error code of the failure. */
  readonly outcome: string;
}

export interface PackageRecord {
  readonly package: string;
  /** `quarantined`: taken out of service by the quarantine (host/serve/quarantine.ts), `code` PACKAGE_QUARANTINED. */
  readonly event: 'loaded' | 'refused' | 'quarantined';
  readonly origin?: 'dev' | 'installed';
  readonly code?: string;
  /** Why it was quarantined (quarantine.ts's reason line). */
  readonly reason?: string;
  readonly grant?: { readonly net: readonly string[]; readonly fs: readonly string[] };
}

/** DLP: a detector fired on what a call returned, logged, raised or sent (never the data itself). */
export interface DlpRecord {
  readonly package: string;
  readonly tool: string;
  readonly detector: string;
  readonly action: 'redact' | 'block' | 'log';
  readonly where: 'result' | 'log' | 'error' | 'fetch-url' | 'fetch-body';
  readonly count: number;
}

/** A record's type and fields, before the writer stamps its time and seals it. */
export type AuditEntry = readonly [type: string, fields: object];

/**
 * The records a capability event becomes: a fetch's DLP findings (runtime/dlp) each a `dlp` record;
 * otherwise one `capability` record (what was asked, of what, and whether it was allowed).
 */
export function capabilityEntries(pkg: string, tool: string, e: CapabilityEvent): AuditEntry[] {
  if (e.dlp !== undefined) return e.dlp.map((f) => ['dlp', { package: pkg, tool, ...f }] as const);
  return [['capability', { package: pkg, tool, kind: e.kind, op: e.op, target: e.target, allowed: e.allowed, ...(e.code ? { code: e.code } : {}) }]];
}

/**
 * Strings of at least this many UTF-16 units, at the arguments' top level, go into the digest unescaped
 * (argsDigest). Part of the digest's definition: changing it changes digests.
 */
export const DIGEST_RAW_MIN = 4096;

/**
 * The digest of a call's arguments under `key`: "hmac-sha256:<hex>", the HMAC of their canonical text.
 *
 * That text is their canonical JSON, unless they are an object with long strings at its top level (at least
 * DIGEST_RAW_MIN units, key and value well formed). Then it is the canonical JSON of the rest of the object,
 * a newline, and each of those members in key order as `<key length>:<key><value length>:<value>` (lengths
 * in UTF-16 units, the strings themselves in UTF-8, never escaped). Canonical JSON has no raw newline, so
 * the two forms never meet, and the second is read back to one value only: different arguments give
 * different texts. Escaping a 100 KB string into JSON costs ~190 µs of the host's time; the HMAC of the
 * string itself ~80 µs.
 *
 * `json`, when given, must be `JSON.stringify(args)`; it is the canonical text itself when every object's
 * keys are in canonical order (then the same digest, one serialization fewer).
 */
export function argsDigest(key: Buffer | KeyObject, args: unknown, json?: string): string {
  const hmac = createHmac('sha256', key);
  const long = longStrings(args);
  if (long === undefined) hmac.update(json !== undefined && inCanonicalOrder(args) ? json : canonicalJson(args));
  else {
    const record = args as Record<string, unknown>;
    const rest: Record<string, unknown> = { ...record }; // an own "__proto__" key stays a key
    for (const k of long) delete rest[k];
    let text = `${inCanonicalOrder(rest) ? JSON.stringify(rest) : canonicalJson(rest)}\n`;
    for (const k of long.sort()) {
      const value = record[k] as string;
      hmac.update(`${text}${k.length}:${k}${value.length}:`);
      hmac.update(value);
      text = '';
    }
  }
  return `hmac-sha256:${hmac.digest('hex')}`;
}

/** The top-level keys of `args` whose values argsDigest takes unescaped, or undefined when there are none. */
function longStrings(args: unknown): string[] | undefined {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return undefined;
  const proto = Object.getPrototypeOf(args) as unknown;
  if ((proto !== Object.prototype && proto !== null) || typeof (args as { toJSON?: unknown }).toJSON === 'function') return undefined;
  let long: string[] | undefined;
  for (const [k, v] of Object.entries(args)) if (typeof v === 'string' && v.length >= DIGEST_RAW_MIN && v.isWellFormed() && k.isWellFormed()) (long ??= []).push(k);
  return long;
}

/**
 * Whether JSON.stringify(value) is canonicalJson(value): every object (arrays' elements included) is a plain
 * object, without toJSON, whose keys (Object.keys: integer keys first, ascending, then the others in
 * insertion order) are already sorted as canonicalJson sorts them. A key sorted out of place, a class
 * instance or anything unusual answers false (the caller then serializes canonically). Iterative: the
 * depth of what it walks is bounded by the caller's nesting check, but no recursion is needed.
 */
export function inCanonicalOrder(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') {
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') return false;
      continue;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push(v[i]);
      continue;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
    const keys = Object.keys(v);
    for (let i = 0; i < keys.length; i++) {
      if (i > 0 && (keys[i - 1] as string) >= (keys[i] as string)) return false;
      stack.push((v as Record<string, unknown>)[keys[i] as string]);
    }
  }
  return true;
}
