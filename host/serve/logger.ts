/**
 * The host's diagnostic log: pino, to stderr (fd 2) or a file — never stdout, which carries the protocol.
 * Nothing here logs argument values or environment values; the redact paths are a second wall in case
 * a future caller passes them by mistake.
 */
import { closeSync, fstatSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { HostError } from '../errors.ts';

export type { Logger };

/** The levels --log-level accepts. */
export const LOG_LEVELS: readonly string[] = Object.freeze(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

/**
 * Opens the log file for appending, private to the user (0600; an existing file is tightened). A missing
 * directory is created, private too (0700): a log that silently went nowhere would hide what happened.
 * @throws HostError LOG_FILE_UNUSABLE
 */
function openLogFile(file: string): number {
  let fd: number | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    fd = openSync(file, 'a', 0o600);
    const info = fstatSync(fd);
    if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOTFILE' });
    if ((info.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
    return fd;
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    const code = (e as { code?: unknown }).code;
    throw new HostError('LOG_FILE_UNUSABLE', `cannot open the log file ${file} (${typeof code === 'string' ? code : 'error'}); choose a writable path with --log-file, or omit it to log to stderr`);
  }
}

export interface LoggerOptions {
  readonly level?: string;
  /** Log file path; default stderr. */
  readonly file?: string;
}

/** @throws HostError USAGE (an unknown level), LOG_FILE_UNUSABLE */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  if (!LOG_LEVELS.includes(level)) throw new HostError('USAGE', `--log-level expects one of ${LOG_LEVELS.join(', ')}, got "${level.slice(0, 40)}"`);
  const destination = pino.destination({ dest: options.file === undefined ? 2 : openLogFile(options.file), sync: true });
  return pino(
    {
      name: 'mcp-warden',
      level,
      redact: { paths: ['args', 'arguments', '*.args', '*.arguments', 'env', '*.env', 'input', '*.input'], censor: '[redacted]' },
    },
    destination,
  );
}
