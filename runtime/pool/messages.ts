/**
 * What a worker reports about a call, decoded into the sandbox's public types. Everything here comes from
 * the worker, which runs tool code: each value is parsed defensively and every string is bounded.
 */
import { LOG_LEVELS } from '../api.ts';
import type { LogEvent, LogLevel, ProgressEvent, RunResult } from '../api.ts';
import { SANDBOX_ERROR_CODES, SandboxError, boundedMessage } from '../errors.ts';
import type { SandboxErrorCode } from '../errors.ts';

const KNOWN_CODES: ReadonlySet<string> = new Set(SANDBOX_ERROR_CODES);

/** A call's result from its `ok` frame: the bounded JSON the isolate produced, parsed. */
export function resultOf(json: string, started: number, keepJson?: (json: string) => boolean): RunResult | SandboxError {
  // The bootstrap marks what ctx.inputRequired returned (entries.js): no JSON text starts with NUL.
  const inputRequired = json.startsWith(INPUT_REQUIRED_PREFIX);
  // The caller forwards this text as it is: no parse (RunOptions.keepJson).
  if (!inputRequired && keepJson?.(json) === true) return { value: undefined, json, outputBytes: Buffer.byteLength(json), durationMs: performance.now() - started };
  let value: unknown;
  try {
    value = JSON.parse(inputRequired ? json.slice(INPUT_REQUIRED_PREFIX.length) : json);
  } catch {
    return new SandboxError('OUTPUT_INVALID', 'the tool returned malformed output');
  }
  return { value, outputBytes: Buffer.byteLength(json), durationMs: performance.now() - started, ...(inputRequired ? { inputRequired: true as const } : { json }) };
}

const INPUT_REQUIRED_PREFIX = '\u0000input_required\u0000';

/**
 * A call's failure from its `err` frame. A denial (or an open circuit breaker) the tool did not survive is
 * reported as such: the host saw it, so it cannot be forged; an unknown code is the tool's own failure.
 */
export function failureOf(code: string, message: string, denied: boolean, circuitOpen = false): SandboxError {
  let known: SandboxErrorCode = KNOWN_CODES.has(code) ? (code as SandboxErrorCode) : 'TOOL_THREW';
  if (known === 'TOOL_THREW' && denied) known = 'CAPABILITY_DENIED';
  else if (known === 'TOOL_THREW' && circuitOpen) known = 'CIRCUIT_OPEN';
  return new SandboxError(known, boundedMessage(message));
}

const KNOWN_LEVELS: ReadonlySet<string> = new Set(LOG_LEVELS);

/** A log level from the worker: one of the MCP levels ('warn' is 'warning'), anything else 'info'. */
export function logLevelOf(level: string): LogLevel {
  if (level === 'warn') return 'warning';
  return KNOWN_LEVELS.has(level) ? (level as LogLevel) : 'info';
}

export function logEventOf(level: string, message: string, data: string | undefined): LogEvent {
  let parsed: unknown;
  if (data !== undefined) {
    try {
      parsed = JSON.parse(data);
    } catch {
      parsed = undefined;
    }
  }
  return {
    level: logLevelOf(level),
    message: boundedMessage(message, 4096),
    data: parsed,
  };
}

/** A progress notification, or null when malformed (it is then dropped). */
export function progressEventOf(json: string): ProgressEvent | null {
  try {
    const p = JSON.parse(json) as { progress?: unknown; total?: unknown; message?: unknown };
    if (typeof p.progress !== 'number' || !Number.isFinite(p.progress)) return null;
    return {
      progress: p.progress,
      total: typeof p.total === 'number' && Number.isFinite(p.total) ? p.total : undefined,
      message: typeof p.message === 'string' ? boundedMessage(p.message, 500) : undefined,
    };
  } catch {
    return null;
  }
}
