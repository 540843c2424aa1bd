/**
 * One worker process as the host sees it: the record the supervisor and the scheduler share (what it
 * hosts, which calls it holds, when it was last heard from), why it ended (Verdict), and how one is spawned
 * and its frames, stderr and exit wired to the supervisor (runtime/pool/supervisor.ts decides what to do
 * with them).
 */
import { boundedMessage } from '../errors.ts';
import type { SandboxErrorCode } from '../errors.ts';
import { createFrameWriter, readFrames } from '../protocol.ts';
import type { WorkerToHost } from '../protocol.ts';
import { spawnWorker } from '../worker-process.ts';
import type { WorkerProcess } from '../worker-process.ts';
import type { CpuPin } from './cpu-binding.ts';

/** Why a worker ended, as the scheduler needs it to settle the calls it held. */
export type Verdict =
  /** Closed with the sandbox. */
  | { readonly kind: 'closed' }
  /** Exited or was killed without a known cause: its calls may be re-run. */
  | { readonly kind: 'crashed' }
  /** Missed its heartbeat: nobody can be blamed, and re-running a call could freeze the next worker. */
  | { readonly kind: 'unresponsive' }
  /** Killed because of one package (and, when known, one call of it). */
  | { readonly kind: 'culprit'; readonly pkg: string; readonly call: number | null; readonly code: SandboxErrorCode; readonly message: string };

export interface Worker {
  readonly index: number;
  readonly pid: number | undefined;
  readonly process: WorkerProcess;
  /** Writes a frame to it (directly on its socket while that takes it: see createFrameWriter). */
  readonly writeFrame: (frame: Buffer) => void;
  /** Resident-memory ceiling it was started with, MiB. */
  readonly ceilingMb: number;
  /** Packages whose source it has been sent. */
  readonly loaded: Set<string>;
  /** Calls in flight on it, by call id, with the package of each. */
  readonly calls: Map<number, string>;
  alive: boolean;
  /** Takes no new calls; exits once its calls are done. */
  retiring: boolean;
  /** Should be replaced as soon as that is possible (a limit was hit in it, or its ceiling is too low). */
  recycle: string | null;
  /** When the host last read a frame from it (performance.now()). */
  lastSeen: number;
  /** Whether it has sent anything yet (its start-up gets a longer allowance). */
  started: boolean;
  verdict: Verdict | null;
}

/** What a spawned worker reports to its supervisor. */
export interface WorkerHandlers {
  onFrame(worker: Worker, message: WorkerToHost): void;
  /** A frame it sent could not be read: the channel can no longer be trusted. */
  onProtocolFault(worker: Worker, reason: string): void;
  onDiagnostic(event: { readonly kind: string; readonly detail: string }): void;
  onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void;
}

/**
 * Spawns the worker process of slot `index` with a resident-memory ceiling, bound to `cpu` when given
 * (runtime/pool/cpu-binding.ts), and wires it to `handlers`.
 */
export function spawnPoolWorker(index: number, ceilingMb: number, handlers: WorkerHandlers, cpu?: CpuPin): Worker {
  const proc = spawnWorker({ rssMb: ceilingMb, ...(cpu !== undefined ? { cpu } : {}) });
  const worker: Worker = {
    index,
    pid: proc.child.pid,
    process: proc,
    writeFrame: createFrameWriter(proc.channel),
    ceilingMb,
    loaded: new Set(),
    calls: new Map(),
    alive: true,
    retiring: false,
    recycle: null,
    lastSeen: performance.now(),
    started: false,
    verdict: null,
  };
  readFrames(
    proc.channel,
    (m) => handlers.onFrame(worker, m as WorkerToHost),
    (reason) => handlers.onProtocolFault(worker, reason),
  );
  proc.channel.on('error', () => undefined);
  proc.child.stderr?.setEncoding('utf8');
  proc.child.stderr?.on('data', (chunk: string) => handlers.onDiagnostic({ kind: 'worker-stderr', detail: boundedMessage(chunk, 500) }));
  proc.child.on('exit', (code, signal) => handlers.onExit(worker, code, signal));
  proc.child.on('error', () => undefined);
  return worker;
}

/** A worker as diagnostics name it. */
export function describeWorker(worker: Worker): string {
  return `worker ${worker.index} (pid ${worker.pid ?? '?'})`;
}
