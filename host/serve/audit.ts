/**
 * The audit trail's writer: JSON lines in <home>/audit.log, one per tool call and one per capability use
 * (and one per refused package). What was called, when, by which package, how it ended — never with what:
 * arguments only as a keyed digest (the records and the digest: host/serve/audit-records.ts; the key:
 * host/serve/audit-key.ts; the file below the writer: host/serve/audit-file.ts).
 *
 * Tamper evidence (host/serve/audit-chain.ts): every record carries the hash of its writer's previous
 * record and an HMAC under a key derived from audit.key; `mcp-warden audit verify` checks both. The log
 * rotates at `maxBytes` (audit.log → audit.log.1 …, `keep` files kept), the chain running on into the
 * new file.
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { closeSync, fstatSync, renameSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { CapabilityEvent } from '../../runtime/index.ts';
import { HostError, errnoOf } from '../errors.ts';
import { lineHash, recordKey, sealRecord } from './audit-chain.ts';
import { anchorOf, appendAll, openPrivateAppendSync } from './audit-file.ts';
import { loadOrCreateAuditKey } from './audit-key.ts';
import { argsDigest, capabilityEntries } from './audit-records.ts';
import type { CallRecord, DlpRecord, PackageRecord } from './audit-records.ts';

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
    const raw = await loadOrCreateAuditKey(keyPath, warn);
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
      for (const [type, fields] of capabilityEntries(pkg, tool, e)) write(type, fields);
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
