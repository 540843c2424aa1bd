/**
 * The audit log's hash chain: how a record is sealed when written, and how a sequence of log files is
 * verified. Pure: no I/O, no clock.
 *
 * Threat: someone who can write the home (a process running as the user, a restore from a doctored
 * backup) edits, removes, reorders or truncates audit records to hide what a tool did. Each record carries
 * `prev`, the SHA-256 of the previous line its writer wrote, and `mac`, an HMAC-SHA256 of the whole record
 * under a key derived from the home's audit.key. An edited line fails its HMAC; a removed or reordered one
 * breaks the chain of the line after it; and re-hashing the chain after an edit needs the key (SHA-256
 * alone can be recomputed by anyone). Residual: whoever can read audit.key can forge records.
 *
 * Several serves of one home append to the same file (O_APPEND, each line whole), so a chain is per
 * writer (`w`, random per serve): each serve's records link to its own previous record, across rotated
 * files. A writer's first record is an `opened` record whose `prev` anchors it to the file's last line
 * when it opened (or zeros, for an empty log); its last is a `closed` record written when it stops.
 */
import { createHmac, createSecretKey, hash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** The `prev` of the first record of an empty log. */
export const GENESIS = '0'.repeat(64);

// The record key is derived from audit.key with a label, so that a record's MAC can never be confused
// with an argument digest made under the same key.
const RECORD_KEY_LABEL = 'mcp-warden audit record v1';

/** The key that seals records, derived from the home's audit key. */
export function recordKey(auditKey: Buffer | KeyObject): KeyObject {
  return createSecretKey(createHmac('sha256', auditKey).update(RECORD_KEY_LABEL).digest());
}

/** The SHA-256 (hex) of a line's bytes, without its newline: what the next record's `prev` carries. */
export function lineHash(line: string): string {
  // crypto.hash: the one-shot form, without a Hash object per line.
  return hash('sha256', line, 'hex');
}

/**
 * A sealed line (without its newline): the record as JSON with `w` and `prev` added, then `mac`, the
 * HMAC of that JSON text, appended as the last member.
 */
export function sealRecord(key: KeyObject, record: object, writer: string, prev: string): string {
  // The same text as JSON.stringify({ ...record, w, prev }) (both are hex strings), without copying the record.
  const body = `${JSON.stringify(record).slice(0, -1)},"w":"${writer}","prev":"${prev}"}`;
  const mac = createHmac('sha256', key).update(body).digest('hex');
  return `${body.slice(0, -1)},"mac":"${mac}"}`;
}

const MAC_SUFFIX = /,"mac":"([0-9a-f]{64})"\}$/;

/** The record of a sealed line whose MAC checks, 'edited' when it does not, or null when the line carries no seal. */
export function openRecord(key: KeyObject, line: string): Record<string, unknown> | 'edited' | null {
  const m = MAC_SUFFIX.exec(line);
  if (!m) return null;
  const body = `${line.slice(0, m.index)}}`;
  const mac = createHmac('sha256', key).update(body).digest('hex');
  if (mac !== m[1]) return 'edited';
  try {
    const rec = JSON.parse(body) as unknown;
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) return 'edited';
    return rec as Record<string, unknown>;
  } catch {
    return 'edited';
  }
}

/** One log file, oldest first in a list: its name (for reports) and its text. */
export interface LogFile {
  readonly name: string;
  readonly text: string;
}

export type ProblemKind = 'edited' | 'removed' | 'reordered' | 'truncated';

export interface Problem {
  readonly kind: ProblemKind;
  readonly file: string;
  /** 1-based line number in `file`. */
  readonly line: number;
  readonly message: string;
}

export interface Verification {
  readonly ok: boolean;
  /** Sealed records that checked. */
  readonly records: number;
  readonly files: readonly string[];
  readonly problems: readonly Problem[];
  /** What is worth knowing but not a sign of tampering (records from before the chain, serves still running). */
  readonly notes: readonly string[];
}

interface Position {
  readonly file: number;
  readonly line: number;
  readonly writer: string | undefined;
}

interface WriterState {
  lastHash: string;
  lastAt: Position;
  /** The last record failed its MAC (already reported): the next one's link is not checked. */
  edited: boolean;
  closed: boolean;
  pid: number | undefined;
}

/** Splits a file's text into its complete lines and, if it does not end with a newline, the partial last one. */
function splitLines(text: string): { lines: string[]; partial: string | null } {
  const parts = text.split('\n');
  const partial = parts.pop() as string;
  return { lines: parts, partial: partial === '' ? null : partial };
}

function writerOf(line: string): string | undefined {
  try {
    const w = (JSON.parse(line) as { w?: unknown }).w;
    return typeof w === 'string' ? w : undefined;
  } catch {
    return undefined;
  }
}

export interface VerifyOptions {
  /** Whether the serve that wrote an unclosed chain may still be writing it. */
  readonly isRunning: (pid: number) => boolean;
  /**
   * Whether files older than the first may have been deleted by rotation (the oldest kept file is
   * audit.log.<keep>): then records there may continue chains that began in them. Otherwise the log
   * must start with each serve's "opened" record.
   */
  readonly rotatedAway: boolean;
}

/** Verifies the records of `files` (oldest first: audit.log.N … audit.log.1, audit.log) under `key`. */
export function verifyChain(files: readonly LogFile[], key: KeyObject, options: VerifyOptions): Verification {
  const problems: Problem[] = [];
  const notes: string[] = [];
  const split = files.map((f) => splitLines(f.text));
  // Every line's hash and where it is, first: a reordered record points at a line that comes after it.
  const where = new Map<string, Position>();
  split.forEach((s, fi) =>
    s.lines.forEach((line, li) => {
      if (line !== '') where.set(lineHash(line), { file: fi, line: li + 1, writer: writerOf(line) });
    }),
  );
  const at = (p: Position): string => `${files[p.file]?.name}:${p.line}`;
  const problem = (kind: ProblemKind, fi: number, line: number, message: string): void => {
    problems.push({ kind, file: files[fi]?.name ?? '?', line, message });
  };
  const before = (a: Position, b: Position): boolean => a.file < b.file || (a.file === b.file && a.line < b.line);

  const writers = new Map<string, WriterState>();
  let records = 0;
  let legacy = 0;
  let partialWrites = 0;
  let sealedSeen = false;
  let rotatedAwayNote = false;
  split.forEach((s, fi) => {
    s.lines.forEach((line, li) => {
      const here: Position = { file: fi, line: li + 1, writer: undefined };
      // An empty line is what the writer leaves before its recovery record after a failed write.
      if (line === '') return;
      const hash = lineHash(line);
      const rec = openRecord(key, line);
      if (rec === null) {
        // Records from before the chain existed may only precede every sealed record.
        if (!sealedSeen) legacy += 1;
        else if (isRecoveryAfter(key, s.lines, li)) partialWrites += 1;
        else problem('edited', fi, here.line, 'not a sealed record (edited, or inserted)');
        return;
      }
      sealedSeen = true;
      if (rec === 'edited') {
        problem('edited', fi, here.line, 'its HMAC does not match: the record was edited, or sealed without the audit key');
        const w = writerOf(line);
        const st = w === undefined ? undefined : writers.get(w);
        if (st) Object.assign(st, { lastHash: hash, lastAt: here, edited: true });
        return;
      }
      records += 1;
      const w = typeof rec.w === 'string' ? rec.w : '';
      const prev = typeof rec.prev === 'string' ? rec.prev : '';
      const st = writers.get(w);
      if (!st) {
        const anchored = prev === GENESIS || where.has(prev);
        if (fi === 0 && !anchored && options.rotatedAway) {
          // The oldest kept file follows files that rotation deleted: this serve began in one of them.
          rotatedAwayNote = true;
        } else if (!(rec.type === 'audit' && rec.event === 'opened')) {
          problem('removed', fi, here.line, `the first record of serve ${w} here is not its "opened" record: its earlier records were removed`);
        } else if (!anchored) {
          problem('removed', fi, here.line, 'the line this serve\'s first record follows is missing: records before it were removed');
        } else if (prev === GENESIS && fi !== 0) {
          problem('removed', fi, here.line, 'a serve started an empty log here, but older files exist: the log was replaced');
        }
        writers.set(w, { lastHash: hash, lastAt: here, edited: false, closed: rec.event === 'closed', pid: typeof rec.pid === 'number' ? rec.pid : undefined });
        return;
      }
      if (!st.edited && prev !== st.lastHash) {
        const target = where.get(prev);
        if (target && target.writer === w && !before(target, here)) {
          problem('reordered', fi, here.line, `out of order: it was written after ${at(target)}`);
        } else if (target && target.writer === w) {
          problem('reordered', fi, here.line, `out of order: it was written right after ${at(target)}, not after ${at(st.lastAt)}`);
        } else {
          problem('removed', fi, here.line, `a record is missing between ${at(st.lastAt)} and this line`);
        }
      }
      if (st.closed) problem('edited', fi, here.line, `serve ${w} wrote this after its "closed" record`);
      Object.assign(st, { lastHash: hash, lastAt: here, edited: false, closed: rec.event === 'closed' });
    });
    if (s.partial !== null) problem('truncated', fi, s.lines.length + 1, 'the file ends in the middle of a record: it was truncated');
  });
  for (const [w, st] of writers) {
    // A writer whose last record was edited is reported already.
    if (st.closed || st.edited) continue;
    if (st.pid !== undefined && options.isRunning(st.pid)) {
      notes.push(`serve ${w} (pid ${st.pid}) has not closed its log yet (still running)`);
      continue;
    }
    const last = files.length - 1;
    problem('truncated', last, (split[last]?.lines.length ?? 0) + 1, `serve ${w}'s records end at ${at(st.lastAt)} without its "closed" record: the log was truncated, or that serve was killed`);
  }
  if (rotatedAwayNote) notes.push(`${files[0]?.name} continues a log file no longer kept (rotated away)`);
  if (legacy > 0) notes.push(`${legacy} record(s) written before the hash chain was introduced (not verifiable)`);
  if (partialWrites > 0) notes.push(`${partialWrites} partial line(s) left by a failed write, each followed by the writer's recovery record`);
  problems.sort((a, b) => files.findIndex((f) => f.name === a.file) - files.findIndex((f) => f.name === b.file) || a.line - b.line);
  return { ok: problems.length === 0, records, files: files.map((f) => f.name), problems, notes };
}

/** Whether the sealed line after lines[i] (skipping the empty one the writer adds) is a recovery record. */
function isRecoveryAfter(key: KeyObject, lines: readonly string[], i: number): boolean {
  const next = lines[i + 1] === '' ? lines[i + 2] : lines[i + 1];
  if (next === undefined) return false;
  const rec = openRecord(key, next);
  return rec !== null && rec !== 'edited' && rec.type === 'audit' && rec.event === 'recovered';
}
