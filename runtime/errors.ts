/**
 * Typed errors of the sandbox runtime. Each code is stable: hosts branch on `code`, never on `message`.
 * The table of codes lives in docs/errors.md and is kept in sync by test/runtime/errors.test.ts.
 */
export class BaseError<C extends string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export const SANDBOX_ERROR_CODES = [
  'SANDBOX_TIMEOUT', // wall-clock limit of the call reached
  'SANDBOX_CPU_LIMIT', // CPU-time limit of the call reached
  'SANDBOX_MEMORY_LIMIT', // isolate heap or worker resident memory limit reached
  'OUTPUT_TOO_LARGE', // serialized result larger than the output limit
  'OUTPUT_INVALID', // result could not be serialized as JSON (cycle, BigInt, function...)
  'INPUT_TOO_LARGE', // serialized arguments larger than the input limit
  'CONCURRENCY_LIMIT', // the package's queue of waiting calls is full (retryable, back-pressure)
  'QUOTA_EXCEEDED', // too many host calls or too much log output in one call
  'CAPABILITY_DENIED', // a fetch or file access outside the grant
  'CAPABILITY_FAILED', // a granted fetch or file access that failed (not found, refused, too large...)
  'CIRCUIT_OPEN', // a fetch refused without being sent: the package's breaker for that origin is open (retry after the time in the message)
  'TOOL_THREW', // the tool threw or rejected
  'TOOL_NOT_FOUND', // the package does not export that tool
  'PACKAGE_LOAD_FAILED', // the package's bundle failed to compile or evaluate
  'CANCELLED', // the caller aborted the call
  'WORKER_CRASHED', // the sandbox worker died while serving the call (retryable)
  'WORKER_UNRESPONSIVE', // the sandbox worker stopped answering its heartbeat and was replaced (retryable)
  'ISOLATE_RESET', // the package's isolate was reset because another of its calls hit a limit (retryable)
  'SANDBOX_CLOSED', // the sandbox was shut down
  'RULE_INVALID', // a capability rule could not be parsed
  'DATA_BLOCKED', // the DLP policy blocks data found in a result or an outgoing request (runtime/dlp)
  'SECRET_NOT_BOUND', // a fetch names a secret toward a target or a place it is not bound to, or one not granted
] as const;

export type SandboxErrorCode = (typeof SANDBOX_ERROR_CODES)[number];

/** Codes after which the same call may succeed if simply retried. */
export const RETRYABLE_CODES: ReadonlySet<SandboxErrorCode> = new Set(['CONCURRENCY_LIMIT', 'WORKER_CRASHED', 'WORKER_UNRESPONSIVE', 'ISOLATE_RESET', 'CIRCUIT_OPEN']);

export class SandboxError extends BaseError<SandboxErrorCode> {
  get retryable(): boolean {
    return RETRYABLE_CODES.has(this.code);
  }
}

export function isSandboxError(e: unknown): e is SandboxError {
  return e instanceof SandboxError;
}

/**
 * Bounds an untrusted string (a message from inside the isolate, a remote error) before it is logged or
 * returned: at most `max` UTF-16 units, control characters other than newline and tab replaced.
 */
export function boundedMessage(value: unknown, max = 1024): string {
  let s = typeof value === 'string' ? value : '';
  if (s.length > max) s = `${s.slice(0, max)}…`;
  // eslint-disable-next-line no-control-regex -- control characters are the point of this expression
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\ufffd');
}
