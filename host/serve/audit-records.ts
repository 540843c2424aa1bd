/**
 * What the audit trail records, as data (host/serve/audit.ts writes it): the record types, a capability
 * event as the records it becomes, and the digest of a call's arguments.
 *
 * Threat: arguments carry user data and secrets (tokens, file contents, prompts). They are recorded only as
 * an HMAC-SHA256 of their canonical JSON under a per-home random key (<home>/audit.key, 0600): equal
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
 * The digest of a call's arguments under `key`: "hmac-sha256:<hex>" of their canonical JSON. `json`, when
 * given, must be `JSON.stringify(args)`; it is the canonical text itself when every object's keys are in
 * canonical order (then the same digest, one serialization fewer: a 100 KB argument costs ~200 µs each).
 */
export function argsDigest(key: Buffer | KeyObject, args: unknown, json?: string): string {
  const text = json !== undefined && inCanonicalOrder(args) ? json : canonicalJson(args);
  return `hmac-sha256:${createHmac('sha256', key).update(text).digest('hex')}`;
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
