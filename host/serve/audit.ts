/**
 * The audit trail: JSON lines in <home>/audit.log, one per tool call and one per capability use (and one
 * per refused package). What was called, when, by which package, how it ended — never with what.
 *
 * Threat: arguments carry user data and secrets (tokens, file contents, prompts). They are recorded only as
 * an HMAC-SHA256 of their canonical JSON under a per-home random key (<home>/audit.key, 0600): equal
 * arguments give equal digests, so calls can be correlated, but a reader of the log alone cannot confirm
 * a guessed value (a plain hash of "yes" or of a short PIN would be trivially reversed).
 *
 * Tamper evidence (host/serve/audit-chain.ts): every record carries the hash of its writer's previous
 * record and an HMAC under a key derived from audit.key; `mcp-warden audit verify` checks both. The log
 * rotates at `maxBytes` (audit.log → audit.log.1 …, `keep` files kept), the chain running on into the
 * new file.
 */
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { closeSync, fchmodSync, fstatSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { CapabilityEvent } from '../../runtime/index.ts';
import { canonicalJson } from '../canonical-json.ts';
import { HostError, errnoOf } from '../errors.ts';
import { atomicWrite } from '../home/files.ts';
import { GENESIS, lineHash, recordKey, sealRecord } from './audit-chain.ts';

/** Bytes of the audit key; a shorter key is never used. */
export const AUDIT_KEY_BYTES = 32;

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

export interface Audit {
  call(record: CallRecord): void;
  dlp(record: DlpRecord): void;
  capability(pkg: string, tool: string, event: CapabilityEvent): void;
  pkg(record: PackageRecord): void;
  /**
   * The digest recorded for a call's arguments. `json`, when given, must be `JSON.stringify(args)`: when
   * it is also the canonical text (every object's keys already in order) it is MACed as it is, instead of
   * serializing the arguments again.
   */
  digest(args: unknown, json?: string): string;
  /** Resolves once every line recorded so far is written (or counted as lost): at once, since each is written when recorded. */
  drain(): Promise<void>;
  close(): Promise<void>;
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

/** The `audit` section of the home's config.json (host/home/config.ts). */
export interface AuditConfig {
  /** The log rotates once it passes this size. */
  readonly maxBytes: number;
  /** Rotated files kept: audit.log.1 (newest) … audit.log.<keep>. */
  readonly keep: number;
}

export const DEFAULT_AUDIT_CONFIG: AuditConfig = Object.freeze({ maxBytes: 10 * 1024 * 1024, keep: 5 });

/** The `audit` section of config.json (already checked against its schema), defaults filled in. Pure. */
export function parseAuditConfig(raw: unknown): AuditConfig {
  const r = (raw ?? {}) as Partial<AuditConfig>;
  return { maxBytes: r.maxBytes ?? DEFAULT_AUDIT_CONFIG.maxBytes, keep: r.keep ?? DEFAULT_AUDIT_CONFIG.keep };
}

export interface AuditOptions {
  readonly now?: () => Date;
  readonly config?: AuditConfig;
  /** The pid recorded in the serve's "opened" record (verify asks whether it still runs). */
  readonly pid?: number;
  /** One line for the user: the key was replaced, or the log could not be written (and when it recovers). */
  readonly warn?: (message: string) => void;
}

type KeyState = { readonly key: Buffer } | { readonly problem: 'missing' | 'empty' | 'short' | 'malformed' };

async function readKey(path: string): Promise<KeyState> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return { problem: 'missing' };
    throw e;
  }
  if (text === '') return { problem: 'empty' };
  if (!/^(?:[0-9a-f]{2})+$/.test(text)) return { problem: 'malformed' };
  if (text.length < AUDIT_KEY_BYTES * 2) return { problem: 'short' };
  return { key: Buffer.from(text, 'hex') };
}

/** The audit key of a home, for `audit verify`: never made here. Null when it is missing, empty, short or malformed. */
export async function readAuditKey(path: string): Promise<Buffer | null> {
  const state = await readKey(path);
  return 'key' in state ? state.key : null;
}

/**
 * The audit key: read when it is a full key; otherwise made with the home's atomicWrite, so a key is only
 * ever seen complete: a missing key is created exactly once (if another serve made one meanwhile, that one
 * is used), a damaged one is replaced whole. A missing, empty, short or malformed key (a disk that filled
 * at first start left a 0-byte file) is never used as an HMAC key.
 */
async function loadOrCreateKey(path: string, warn: (message: string) => void): Promise<Buffer> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const state = await readKey(path);
    if ('key' in state) return state.key;
    const key = randomBytes(AUDIT_KEY_BYTES);
    try {
      await atomicWrite(path, key.toString('hex'), { mode: 0o600, exclusive: state.problem === 'missing' });
    } catch (e) {
      if ((e as { code?: string }).code === 'EEXIST') continue; // another serve made it first: read theirs
      throw e;
    }
    if (state.problem !== 'missing') {
      warn(`the audit key (audit.key) was ${state.problem}; a new ${AUDIT_KEY_BYTES}-byte key replaces it (argument digests before and after it do not compare)`);
    }
    return key;
  }
  throw new HostError('HOME_UNUSABLE', 'the audit key keeps changing under us; is another program rewriting audit.key?');
}

/** Opens a log file for appending (O_APPEND), private to the user (0600), tightening an existing one. */
function openPrivateAppendSync(path: string): number {
  const fd = openSync(path, 'a', 0o600);
  try {
    const info = fstatSync(fd);
    if (info.isFile() && (info.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/**
 * Writes all of `text` at the end of the file (O_APPEND) and returns its byte length: the string is handed
 * to write(2) as it is (no Buffer made for it: ~4 µs of a record's ~15); a loop only for a partial write.
 */
function appendAll(fd: number, text: string): number {
  const length = Buffer.byteLength(text);
  const written = writeSync(fd, text);
  if (written === length) return length;
  const bytes = Buffer.from(text, 'utf8');
  let done = written;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
  return length;
}

const TAIL_BYTES = 64 * 1024;

/**
 * The end of a log file: the hash of its last complete line (null when it has none) and whether it ends
 * with a newline. Reads at most its last 64 KiB; a record is far shorter.
 */
function tailOf(path: string): { last: string | null; endsWithNewline: boolean } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { last: null, endsWithNewline: true };
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size === 0) return { last: null, endsWithNewline: true };
    const length = Math.min(info.size, TAIL_BYTES);
    const buf = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, info.size - length + got);
      if (n === 0) break;
      got += n;
    }
    const text = buf.subarray(0, got).toString('utf8');
    const lines = text.split('\n');
    const endsWithNewline = lines.pop() === '';
    const complete = lines.filter((l) => l !== '');
    // The first piece of a window that does not start the file may be the cut end of a line.
    if (info.size > length) complete.shift();
    const last = complete.at(-1);
    return { last: last === undefined ? null : lineHash(last), endsWithNewline };
  } finally {
    closeSync(fd);
  }
}

/** The hash the first record of a serve links to: the last line of the log, or of its newest rotated file, or GENESIS. */
function anchorOf(logPath: string): { prev: string; endsWithNewline: boolean } {
  const current = tailOf(logPath);
  if (current.last !== null) return { prev: current.last, endsWithNewline: current.endsWithNewline };
  const rotated = tailOf(`${logPath}.1`);
  return { prev: rotated.last ?? GENESIS, endsWithNewline: current.endsWithNewline };
}

// How many bytes this serve writes between two looks at the file's real size and identity (another
// serve of the same home may have written to it, or rotated it).
const CHECK_EVERY_BYTES = 64 * 1024;

/**
 * Opens the audit log for appending (0600).
 * @throws HostError HOME_UNUSABLE when the key or the log cannot be made (read-only or full home).
 */
export async function openAudit(logPath: string, keyPath: string, options: AuditOptions = {}): Promise<Audit> {
  const now = options.now ?? (() => new Date());
  const warn = options.warn ?? ((m: string) => process.stderr.write(`mcp-warden: warning: ${m}\n`));
  const config = options.config ?? DEFAULT_AUDIT_CONFIG;
  let fd: number | null;
  let secret: KeyObject;
  let sealKey: KeyObject;
  let anchor: { prev: string; endsWithNewline: boolean };
  try {
    // A KeyObject made once: HMAC with a raw Buffer key re-imports the key on every call (~10 µs).
    const raw = await loadOrCreateKey(keyPath, warn);
    secret = createSecretKey(raw);
    sealKey = recordKey(raw);
    anchor = anchorOf(logPath);
    fd = openPrivateAppendSync(logPath);
  } catch (e) {
    if (e instanceof HostError) throw e;
    throw new HostError('HOME_UNUSABLE', `cannot create the audit key or log in the home (${errnoOf(e)}); make the home writable, free space, or choose another with --home`);
  }
  // This serve's chain: its id in every record, and the hash of the last record it wrote.
  const writer = randomBytes(6).toString('hex');
  let last = anchor.prev;
  const identity = (): { ino: number; size: number } => {
    const info = fstatSync(fd as number);
    return { ino: info.ino, size: info.size };
  };
  let { ino, size } = identity();
  let sinceCheck = 0;
  let rotationFailed = false;

  // Each record is written before the call that made it returns, so a call's line is on file before its
  // response leaves: one write(2) to a descriptor opened O_APPEND (a few µs; the former batched
  // asynchronous file-stream write cost ~70 µs of latency and more CPU per call). O_APPEND makes each write
  // land whole at the end even when another serve of the same home appends too.
  // A write failure (disk full) must not take the host down, nor end auditing: the lines of a failed write
  // are counted, every later write retries (reopening the file), and the first write that succeeds records
  // how many lines were lost. Both the failure and the recovery are reported.
  let lost = 0;
  // A line left unfinished by a crashed serve must not swallow our first record.
  let newlineFirst = !anchor.endsWithNewline;
  /** Seals and writes records in one write(2); the chain moves on only once they are on file. */
  const append = (records: readonly object[]): void => {
    let prev = last;
    let text = newlineFirst ? '\n' : '';
    for (const r of records) {
      const line = sealRecord(sealKey, r, writer, prev);
      prev = lineHash(line);
      text += `${line}\n`;
    }
    fd ??= openPrivateAppendSync(logPath);
    const bytes = appendAll(fd, text);
    newlineFirst = false;
    last = prev;
    size += bytes;
    sinceCheck += bytes;
  };
  let closed = false;
  const write = (type: string, fields: object): void => {
    if (closed) {
      // The chain ended with its "closed" record; a late record would read as one appended by someone else.
      warn(`an audit record (${type}) arrived after the log was closed and is not written`);
      return;
    }
    const record = { time: now().toISOString(), type, ...fields };
    try {
      // After a failure, a partial line may end the file: the recovery record starts on a new line.
      if (lost > 0) newlineFirst = true;
      append(lost > 0 ? [{ time: now().toISOString(), type: 'audit', event: 'recovered', lost }, record] : [record]);
      if (lost > 0) warn(`the audit log is written again; ${lost} line(s) were lost`);
      lost = 0;
    } catch (e) {
      if (lost === 0) warn(`cannot write the audit log (${errnoOf(e)}); lines are lost until a write succeeds, every new line retries`);
      lost += 1;
      if (fd !== null) {
        try {
          closeSync(fd);
        } catch {
          // already unusable
        }
      }
      fd = null;
      return;
    }
    if (size >= config.maxBytes || sinceCheck >= CHECK_EVERY_BYTES) checkFile();
  };

  /** Looks at the file by name: rotated by another serve (follow it), or past maxBytes (rotate it). */
  const checkFile = (): void => {
    sinceCheck = 0;
    try {
      const named = statSync(logPath);
      if (named.ino !== ino) {
        reopen();
        return;
      }
      size = named.size;
      if (size >= config.maxBytes) rotate();
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') reopen();
      else if (!rotationFailed) {
        rotationFailed = true;
        warn(`cannot rotate the audit log (${errnoOf(e)}); it keeps growing until a rotation succeeds`);
      }
    }
  };
  const reopen = (): void => {
    if (fd !== null) closeSync(fd);
    fd = null;
    fd = openPrivateAppendSync(logPath);
    ({ ino, size } = identity());
  };
  // audit.log.<keep-1> → audit.log.<keep> (the oldest is replaced) … audit.log → audit.log.1; then the
  // new file's first record carries the hash of the last record of the previous one.
  const rotate = (): void => {
    for (let i = config.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${logPath}.${i}`, `${logPath}.${i + 1}`);
      } catch (e) {
        if (errnoOf(e) !== 'ENOENT') throw e;
      }
    }
    renameSync(logPath, `${logPath}.1`);
    reopen();
    rotationFailed = false;
    append([{ time: now().toISOString(), type: 'audit', event: 'rotated', previous: `${basename(logPath)}.1` }]);
  };

  write('audit', { event: 'opened', pid: options.pid ?? process.pid });
  return {
    call: (r) => write('call', r),
    dlp: (r) => write('dlp', r),
    capability: (pkg, tool, e) => {
      // A fetch's DLP findings (runtime/dlp) arrive on a capability event: each is a `dlp` record.
      if (e.dlp !== undefined) for (const f of e.dlp) write('dlp', { package: pkg, tool, ...f });
      else write('capability', { package: pkg, tool, kind: e.kind, op: e.op, target: e.target, allowed: e.allowed, ...(e.code ? { code: e.code } : {}) });
    },
    pkg: (r) => write('package', r),
    digest: (args, json) => argsDigest(secret, args, json),
    // Every record is written when it is made: nothing is ever pending.
    drain: async () => {},
    close: async () => {
      if (closed) return;
      // The chain's end: verify tells a serve that stopped from a log whose tail was cut off.
      write('audit', { event: 'closed' });
      closed = true;
      if (fd === null) return;
      const closing = fd;
      fd = null;
      try {
        closeSync(closing);
      } catch {
        // nothing left to flush: every write went straight to the file
      }
    },
  };
}
