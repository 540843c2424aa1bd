/**
 * What a package's handler writes with `ctx.log`, forwarded to the client as `notifications/message`
 * (the `logging` capability), one sink per call.
 *
 * Levels: the eight syslog levels of MCP (RFC 5424); the runtime's 'warn' is 'warning'. The threshold is
 * the client's: on 2025-11-25 the level of its last `logging/setLevel` (every level until it sends one:
 * the spec lets the server choose, and this is what the SDK does); on 2026-07-28 the
 * `io.modelcontextprotocol/logLevel` of the request's own `_meta`, and without one nothing at all (the
 * 2026-07-28 spec: the server MUST NOT send notifications/message for a request without it).
 *
 * Threat: log lines are written by untrusted package code. Each line is bounded (message and data), passed
 * through the host's redactor (no host path, no secret from the environment reaches the client), and each
 * call may send at most `maxLines` lines, paced by a token bucket; what is dropped is counted and reported
 * once, as one line, when the call ends. A package cannot flood the client or the pipe with logs.
 */
import { boundedMessage } from '../../../runtime/index.ts';
import type { Redactor } from '../redact.ts';

export const LOGGING_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;
export type LoggingLevel = (typeof LOGGING_LEVELS)[number];

/** Bound on a line's message, characters. */
export const MAX_LOG_MESSAGE_CHARS = 1024;
/** Bound on a line's data, as JSON, bytes; larger data is replaced by a note of its size. */
export const MAX_LOG_DATA_BYTES = 4096;
/** Lines one call may send. */
export const MAX_LOG_LINES_PER_CALL = 50;
/** The token bucket of one call: a burst of this many lines, then this many per second. */
export const LOG_BURST = 20;
export const LOG_LINES_PER_SECOND = 10;

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly data?: unknown;
}

export type LoggingMessageParams = {
  level: LoggingLevel;
  logger?: string;
  data: unknown;
};

export function isLoggingLevel(v: unknown): v is LoggingLevel {
  return typeof v === 'string' && (LOGGING_LEVELS as readonly string[]).includes(v);
}

/** A runtime log level as an MCP level: 'warn' is 'warning'; anything unknown is 'info'. */
export function toLoggingLevel(level: string): LoggingLevel {
  if (level === 'warn') return 'warning';
  return isLoggingLevel(level) ? level : 'info';
}

/** Whether `level` is at or above `threshold` in severity. */
export function atLeast(level: LoggingLevel, threshold: LoggingLevel): boolean {
  return LOGGING_LEVELS.indexOf(level) >= LOGGING_LEVELS.indexOf(threshold);
}

export interface CallLogOptions {
  /** The lowest level the client asked for; undefined: the client asked for none (send nothing). */
  readonly threshold: LoggingLevel | undefined;
  readonly redact: Redactor;
  /** Sends one notifications/message; failures are the caller's to ignore. */
  readonly send: (params: LoggingMessageParams) => void;
  /** The `logger` field: who logged (package and handler). */
  readonly logger?: string;
  readonly maxLines?: number;
  readonly burst?: number;
  readonly perSecond?: number;
  /** Milliseconds, monotonic (performance.now by default): injectable for tests. */
  readonly now?: () => number;
}

export interface CallLog {
  /** One line written by the handler. */
  log(line: LogLine): void;
  /** The call ended: reports the lines dropped, if any, as one line. */
  finish(): void;
}

function boundedData(data: unknown, redact: Redactor): unknown {
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch {
    return '[data not serializable]';
  }
  if (json === undefined) return undefined;
  if (Buffer.byteLength(json) > MAX_LOG_DATA_BYTES) return `[data omitted: ${Buffer.byteLength(json)} bytes, limit ${MAX_LOG_DATA_BYTES}]`;
  const scrubbed = redact(json);
  if (scrubbed === json) return JSON.parse(json) as unknown;
  try {
    return JSON.parse(scrubbed) as unknown;
  } catch {
    return scrubbed;
  }
}

export function createCallLog(options: CallLogOptions): CallLog {
  const { threshold, redact, send } = options;
  const maxLines = options.maxLines ?? MAX_LOG_LINES_PER_CALL;
  const burst = options.burst ?? LOG_BURST;
  const perSecond = options.perSecond ?? LOG_LINES_PER_SECOND;
  const now = options.now ?? (() => performance.now());
  let sent = 0;
  let dropped = 0;
  let tokens = burst;
  let refilledAt = now();
  let finished = false;
  const emit = (level: LoggingLevel, message: string, data: unknown): void => {
    const text = redact(boundedMessage(message, MAX_LOG_MESSAGE_CHARS));
    const bounded = data === undefined ? undefined : boundedData(data, redact);
    send({ level, ...(options.logger !== undefined ? { logger: options.logger } : {}), data: bounded === undefined ? text : { message: text, data: bounded } });
  };
  const take = (): boolean => {
    const t = now();
    tokens = Math.min(burst, tokens + ((t - refilledAt) / 1000) * perSecond);
    refilledAt = t;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
  return {
    log(line) {
      if (threshold === undefined || finished) return;
      const level = toLoggingLevel(line.level);
      if (!atLeast(level, threshold)) return;
      if (sent >= maxLines || !take()) {
        dropped++;
        return;
      }
      sent++;
      emit(level, typeof line.message === 'string' ? line.message : String(line.message), line.data);
    },
    finish() {
      if (finished) return;
      finished = true;
      if (dropped > 0 && threshold !== undefined) {
        // A warning, or the client's own level when that is higher: it always learns that lines were lost.
        emit(atLeast('warning', threshold) ? 'warning' : threshold, `${dropped} log line${dropped === 1 ? '' : 's'} dropped (at most ${maxLines} per call, ${perSecond} per second after a burst of ${burst})`, undefined);
      }
    },
  };
}
