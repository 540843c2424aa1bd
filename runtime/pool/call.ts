/**
 * One call as the scheduler (runtime/pool/scheduler.ts) tracks it, and what its end means, as pure
 * functions: the outcome a worker's end gives each call it held (its limit code, ISOLATE_RESET,
 * WORKER_UNRESPONSIVE, a re-run, WORKER_CRASHED), and whether a limit hit by a call means its worker should
 * be recycled (V8 does not give back what an isolate grew).
 */
import type { Grant, PackageCode, RunOptions, RunResult } from '../api.ts';
import { SandboxError, boundedMessage } from '../errors.ts';
import type { SandboxErrorCode } from '../errors.ts';
import type { ArgsFrame } from '../call-args.ts';
import type { createFileAccess } from '../io/files.ts';
import type { Limits } from '../types.ts';
import type { Verdict, Worker } from './worker.ts';

/** What a new call is made of; the rest starts empty. */
export interface CallSpec {
  readonly id: number;
  readonly pkg: PackageCode;
  readonly tool: string;
  /** The arguments as the call's frame carries them (runtime/call-args.ts). */
  readonly args: ArgsFrame;
  readonly grant: Grant;
  readonly limits: Limits;
  readonly options: RunOptions;
  readonly resolve: (r: RunResult) => void;
  readonly reject: (e: SandboxError) => void;
}

/** One call as the scheduler tracks it: what it was made of, and its state since. */
export interface Call extends CallSpec {
  readonly started: number;
  state: 'queued' | 'running' | 'settled';
  /** Aborts the call's host I/O; created on its first capability request (creating one per call is costly). */
  io: AbortController | null;
  worker: Worker | null;
  /** performance.now() past which the host's watchdog judges the call (wallMs + the grace, from dispatch). */
  deadline: number;
  /** A capability request reached the host: re-running the call could repeat a side effect. */
  sideEffects: boolean;
  /** A capability was denied during the call: its failure is reported as CAPABILITY_DENIED. */
  denied: boolean;
  /** A fetch was refused by an open circuit breaker: a failure it ends in is reported as CIRCUIT_OPEN. */
  circuitOpen: boolean;
  retried: boolean;
  /** Bytes of log and progress text the call sent. */
  logBytes: number;
  files: Promise<ReturnType<typeof createFileAccess>> | null;
  removeAbortListener: (() => void) | null;
}

/** A queued call, its clock started now. */
export function newCall(spec: CallSpec): Call {
  return {
    id: spec.id,
    pkg: spec.pkg,
    tool: spec.tool,
    args: spec.args,
    grant: spec.grant,
    limits: spec.limits,
    options: spec.options,
    started: performance.now(),
    state: 'queued',
    io: null,
    resolve: spec.resolve,
    reject: spec.reject,
    worker: null,
    deadline: Number.POSITIVE_INFINITY,
    sideEffects: false,
    denied: false,
    circuitOpen: false,
    retried: false,
    logBytes: 0,
    files: null,
    removeAbortListener: null,
  };
}

/**
 * How a running call ends when its worker did (runtime/pool/supervisor.ts's Verdict): the culprit call gets
 * its limit code and its package's other calls ISOLATE_RESET; on an unresponsive worker every call fails
 * with WORKER_UNRESPONSIVE; after a crash, a call that made no capability request is re-run once
 * ('rerun': nothing left the sandbox, so it is safe), others fail with WORKER_CRASHED.
 */
export function exitOutcome(verdict: Verdict, call: Pick<Call, 'id' | 'pkg' | 'sideEffects' | 'retried'>, closed: boolean): SandboxError | 'rerun' {
  if (verdict.kind === 'closed') return new SandboxError('SANDBOX_CLOSED', 'the sandbox was shut down');
  if (verdict.kind === 'unresponsive') {
    return new SandboxError('WORKER_UNRESPONSIVE', 'the sandbox worker serving this call stopped responding and was replaced; retry the call');
  }
  if (verdict.kind === 'culprit' && verdict.pkg === call.pkg.id && (verdict.call === null || verdict.call === call.id)) return new SandboxError(verdict.code, verdict.message);
  if (verdict.kind === 'culprit' && verdict.pkg === call.pkg.id) {
    return new SandboxError('ISOLATE_RESET', 'the isolate was reset because another call of the same package hit a limit');
  }
  if (!call.sideEffects && !call.retried && !closed) return 'rerun';
  return new SandboxError('WORKER_CRASHED', 'the sandbox worker serving this call was restarted; retry the call');
}

/** Limits after which the worker may keep the memory its isolate grew: it is replaced once idle. */
const RECYCLE_CODES: ReadonlySet<SandboxErrorCode> = new Set(['SANDBOX_MEMORY_LIMIT', 'OUTPUT_TOO_LARGE', 'QUOTA_EXCEEDED']);
/** Other limits: the worker is replaced only if it stays above half its ceiling. */
const LIMIT_CODES: ReadonlySet<SandboxErrorCode> = new Set(['SANDBOX_CPU_LIMIT', 'SANDBOX_TIMEOUT', 'OUTPUT_INVALID', 'TOOL_THREW']);

/** What a settled call means for its worker: recycle it (why), look at its resident memory (after which limit), or nothing. */
export type AfterLimit = { readonly recycle: string } | { readonly checkResident: SandboxErrorCode } | null;

export function afterLimitOf(call: Pick<Call, 'pkg' | 'limits' | 'logBytes'>, outcome: RunResult | SandboxError): AfterLimit {
  const code = outcome instanceof SandboxError ? outcome.code : null;
  // The bootstrap stops a call's logs at its quota: a call that came within two lines of it flooded.
  const flooded = call.logBytes >= Math.max(call.limits.logBytes / 2, call.limits.logBytes - 8192);
  if ((code !== null && RECYCLE_CODES.has(code)) || flooded) return { recycle: `${code ?? 'log flood'} in ${boundedMessage(call.pkg.name, 100)}` };
  if (code !== null && LIMIT_CODES.has(code)) return { checkResident: code };
  return null;
}
