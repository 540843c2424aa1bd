/**
 * Plain data shared by the sandbox runtime and its host. No behaviour lives here.
 */
import type { DlpFinding } from './dlp/apply.ts';

/** The outcome of a pure capability check (runtime/capabilities/*.ts). */
export type Decision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly code: DenyCode; readonly detail: string };

export type DenyCode =
  | 'NET_NOT_GRANTED'
  | 'NET_PRIVATE_ADDRESS'
  | 'NET_BAD_URL'
  | 'NET_SCHEME_NOT_ALLOWED'
  | 'NET_PORT_NOT_GRANTED'
  | 'NET_CREDENTIALS_IN_URL'
  | 'NET_PATH_NOT_GRANTED'
  | 'NET_METHOD_NOT_GRANTED'
  | 'FS_NOT_GRANTED'
  | 'FS_READ_ONLY'
  | 'FS_BAD_PATH'
  | 'FS_BAD_NAME'
  | 'FS_SYMLINK_ESCAPE'
  | 'FS_HARD_LINK';

/**
 * One capability use, reported for the audit trail. Never carries file contents or request bodies.
 * Kind "breaker" is a circuit breaker's state change for `target` (runtime/io/breaker.ts): op "open"
 * (allowed false, code CIRCUIT_OPEN), "half-open" or "close". A fetch refused by an open breaker is a
 * "net" event with code CIRCUIT_OPEN.
 */
export interface CapabilityEvent {
  readonly kind: 'net' | 'fs' | 'breaker';
  /** e.g. "GET", "readFile", "writeFile"; for "breaker": "open", "half-open", "close". */
  readonly op: string;
  /** For net: "https://host:port" (no path, no query: they may carry secrets). For fs: the absolute path. */
  readonly target: string;
  readonly allowed: boolean;
  readonly code?: DenyCode | 'CIRCUIT_OPEN' | 'CONSENT_REQUIRED' | 'CONSENT_REFUSED' | 'CONSENT_DENIED' | 'CONSENT_TIMEOUT';
  /** DLP: what the detectors found in the request (detector, action, count; never the text). */
  readonly dlp?: readonly DlpFinding[];
}

/** Resource limits of one call. All are enforced; see docs/architecture.md. */
export interface Limits {
  /** Isolate heap limit (isolated-vm memoryLimit), MiB. */
  readonly memoryMb: number;
  /** CPU time the call may spend running tool code, ms. */
  readonly cpuMs: number;
  /** Wall-clock time of the call, including time spent awaiting capabilities and timers, ms. */
  readonly wallMs: number;
  /** Bytes of the JSON-serialized result. */
  readonly outputBytes: number;
  /** Bytes of the JSON-serialized arguments. */
  readonly inputBytes: number;
  /** Calls of one package in flight at once. */
  readonly concurrency: number;
  /** Host calls (fetch, file access, timers) one call may make. */
  readonly hostCalls: number;
  /** Bytes of log messages one call may emit. */
  readonly logBytes: number;
  /** Per-request timeout of a fetch, ms. */
  readonly fetchTimeoutMs: number;
  /** Request body bytes of one fetch. */
  readonly maxRequestBytes: number;
  /** Response body bytes of one fetch. */
  readonly maxResponseBytes: number;
  /** Bytes one readFile may return. */
  readonly maxReadBytes: number;
  /** Bytes one writeFile may write. */
  readonly maxWriteBytes: number;
  /** Bytes all writeFile calls of one call may write together. */
  readonly writeBytes: number;
  /** Bytes all writeFile calls under one grant (one loaded package) may write during the sandbox's life. */
  readonly grantWriteBytes: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  memoryMb: 64,
  cpuMs: 2_000,
  wallMs: 30_000,
  outputBytes: 1024 * 1024,
  inputBytes: 1024 * 1024,
  concurrency: 4,
  hostCalls: 1_000,
  logBytes: 64 * 1024,
  fetchTimeoutMs: 10_000,
  maxRequestBytes: 1024 * 1024,
  maxResponseBytes: 5 * 1024 * 1024,
  maxReadBytes: 5 * 1024 * 1024,
  maxWriteBytes: 5 * 1024 * 1024,
  writeBytes: 64 * 1024 * 1024,
  grantWriteBytes: 1024 * 1024 * 1024,
});
