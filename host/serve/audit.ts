/**
 * The audit trail: JSON lines in <home>/audit.log, one per tool call and one per capability use (and one
 * per refused package). What was called, when, by which package, how it ended — never with what.
 *
 * Threat: arguments carry user data and secrets (tokens, file contents, prompts). They are recorded only as
 * an HMAC-SHA256 of their canonical JSON under a per-home random key (<home>/audit.key, 0600): equal
 * arguments give equal digests, so calls can be correlated, but a reader of the log alone cannot confirm
 * a guessed value (a plain hash of "yes" or of a short PIN would be trivially reversed).
 */
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { WriteStream } from 'node:fs';
import type { CapabilityEvent } from '../../runtime/index.ts';

export interface CallRecord {
  readonly package: string;
  readonly version: string;
  readonly tool: string;
  readonly argsDigest: string;
  readonly durationMs: number;
  /** "ok", or the stable error code of the failure. */
  readonly outcome: string;
}

export interface PackageRecord {
  readonly package: string;
  readonly event: 'loaded' | 'refused';
  readonly origin?: 'dev' | 'installed';
  readonly code?: string;
  readonly grant?: { readonly net: readonly string[]; readonly fs: readonly string[] };
}

export interface Audit {
  call(record: CallRecord): void;
  capability(pkg: string, tool: string, event: CapabilityEvent): void;
  pkg(record: PackageRecord): void;
  /** The digest recorded for a call's arguments. */
  digest(args: unknown): string;
  close(): Promise<void>;
}

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  }) ?? 'null';
}

/** The digest of a call's arguments under `key`: "hmac-sha256:<hex>". */
export function argsDigest(key: Buffer | KeyObject, args: unknown): string {
  return `hmac-sha256:${createHmac('sha256', key).update(canonicalJson(args)).digest('hex')}`;
}

async function loadOrCreateKey(path: string): Promise<Buffer> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    if (/^[0-9a-f]{64}$/.test(text)) return Buffer.from(text, 'hex');
  } catch {
    // created below
  }
  const key = randomBytes(32);
  try {
    // wx: never overwrite a key another process just created.
    await writeFile(path, key.toString('hex'), { mode: 0o600, flag: 'wx' });
    return key;
  } catch {
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'hex');
  }
}

/** Opens the audit log for appending (0600). */
export async function openAudit(logPath: string, keyPath: string, now: () => Date = () => new Date()): Promise<Audit> {
  // A KeyObject made once: HMAC with a raw Buffer key re-imports the key on every call (~10 µs).
  const key = createSecretKey(await loadOrCreateKey(keyPath));
  const stream: WriteStream = createWriteStream(logPath, { flags: 'a', mode: 0o600 });
  // An audit write failure (disk full) must not take the host down; it is reported once on stderr.
  let failed = false;
  stream.on('error', () => {
    if (!failed) process.stderr.write('mcp-warden: cannot write the audit log\n');
    failed = true;
  });
  // Lines of one event-loop turn go out in one write: a write per call costs a syscall (~18 µs) on the
  // hot path. The window is one turn, and close() flushes, so nothing is lost on an orderly exit.
  let pending: string[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    if (!failed) stream.write(text);
  };
  const write = (type: string, fields: object): void => {
    if (failed) return;
    if (pending.length === 0) setImmediate(flush);
    pending.push(`${JSON.stringify({ time: now().toISOString(), type, ...fields })}\n`);
  };
  return {
    call: (r) => write('call', r),
    capability: (pkg, tool, e) =>
      write('capability', { package: pkg, tool, kind: e.kind, op: e.op, target: e.target, allowed: e.allowed, ...(e.code ? { code: e.code } : {}) }),
    pkg: (r) => write('package', r),
    digest: (args) => argsDigest(key, args),
    close: () =>
      new Promise((resolve) => {
        flush();
        stream.end(resolve);
      }),
  };
}
