/**
 * The audit log as a file, below the writer (host/serve/audit.ts): opened for appending and private to the
 * user, a record's text handed to write(2) whole, and the end of an existing log read to find the line a
 * serve's chain links to (host/serve/audit-chain.ts).
 */
import { closeSync, fchmodSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { GENESIS, lineHash } from './audit-chain.ts';

/** Opens a log file for appending (O_APPEND), private to the user (0600), tightening an existing one. */
export function openPrivateAppendSync(path: string): number {
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
export function appendAll(fd: number, text: string): number {
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
export function tailOf(path: string): { last: string | null; endsWithNewline: boolean } {
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
export function anchorOf(logPath: string): { prev: string; endsWithNewline: boolean } {
  const current = tailOf(logPath);
  if (current.last !== null) return { prev: current.last, endsWithNewline: current.endsWithNewline };
  const rotated = tailOf(`${logPath}.1`);
  return { prev: rotated.last ?? GENESIS, endsWithNewline: current.endsWithNewline };
}
