/**
 * The host's diagnostic log: pino, to stderr (fd 2) or a file — never stdout, which carries the protocol.
 * Nothing here logs argument values or environment values; the redact paths are a second wall in case
 * a future caller passes them by mistake.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  readonly level?: string;
  /** Log file path; default stderr. */
  readonly file?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = pino.destination({ dest: options.file ?? 2, sync: true, mkdir: options.file !== undefined });
  return pino(
    {
      name: 'mcp-warden',
      level: options.level ?? 'info',
      redact: { paths: ['args', 'arguments', '*.args', '*.arguments', 'env', '*.env', 'input', '*.input'], censor: '[redacted]' },
    },
    destination,
  );
}
