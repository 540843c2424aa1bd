/**
 * The call state machine: queued → running → settled, per package.
 *
 * Isolation between packages: each package has its own FIFO queue and its own `concurrency` running
 * slots; a call leaves its queue only when one of its own package's calls ends. No call ever waits on the
 * host behind another package's call, and a call's wall clock starts when it is handed to its worker:
 * waiting in its own package's queue is the only wait it is not charged for, and that wait is caused by
 * its own package alone. A wall-clock timeout found by the host is charged to a call only while its worker
 * is answering its heartbeat: a silent worker is the supervisor's to judge, and nobody's fault.
 *
 * Overload is queued, not refused: up to `queueDepth` calls wait per package; only past that is a call
 * refused, with the retryable CONCURRENCY_LIMIT (back-pressure: retry later).
 *
 * A worker's death settles its calls by what is known (runtime/pool/supervisor.ts's Verdict): the
 * culprit call gets its limit code and its package's other calls ISOLATE_RESET; on an unresponsive
 * worker every call fails with WORKER_UNRESPONSIVE; after a crash, calls that had made no capability
 * request are re-run once (nothing left the sandbox, so it is safe), others fail with WORKER_CRASHED.
 *
 * The call record and those outcomes, as pure functions, are in runtime/pool/call.ts; a call's capability
 * requests are served by runtime/pool/host-requests.ts.
 */
import type { Grant, PackageCode, RunOptions, RunResult } from '../api.ts';
import { SandboxError, boundedMessage } from '../errors.ts';
import type { HostCallContext } from '../host-calls.ts';
import { createBreakerRegistry } from '../io/breaker.ts';
import type { BreakerConfig } from '../io/breaker.ts';
import type { WorkerToHost } from '../protocol.ts';
import type { Limits } from '../types.ts';
import { utf8LongerThan } from '../utf8-length.ts';
import { residentBytes } from '../worker-process.ts';
import { afterLimitOf, exitOutcome, newCall } from './call.ts';
import type { Call } from './call.ts';
import { createRequestServer } from './host-requests.ts';
import { failureOf, logEventOf, progressEventOf, resultOf } from './messages.ts';
import type { Supervisor } from './supervisor.ts';
import type { Verdict, Worker } from './worker.ts';
import { inMiB, overHalfCeiling } from './worker-memory.ts';

/**
 * The reason a settled call's host I/O still in flight is aborted with. Made once: `abort()` without a
 * reason builds a DOMException, stack and all, for every call that did I/O (~45 µs of a gated fetch).
 */
const CALL_ENDED = new SandboxError('CANCELLED', 'the call has ended');

/**
 * Calls `onAbort(call)` when `signal` aborts, until the returned function is called (at the call's end).
 * The listener reaches the call only through a variable that release clears, and is made here, outside
 * the scope of `run` (a closure there would keep its arguments, their JSON and the call's promise): V8's
 * young-generation GC may still find a removed listener (from dead objects promoted earlier, it treats as
 * live until the next full GC), and each call it reached then survived, and was copied and promoted, with
 * everything it held (docs/performance-history.md, *Fifth pass of issue 14: garbage per call*).
 */
function cancelOnAbort(signal: AbortSignal, call: Call, onAbort: (call: Call) => void): () => void {
  let held: Call | null = call;
  const listener = (): void => {
    if (held !== null) onAbort(held);
  };
  signal.addEventListener('abort', listener, { once: true });
  return () => {
    held = null;
    signal.removeEventListener('abort', listener);
  };
}

/** Calls that may wait per package beyond its running ones, by default. */
export const DEFAULT_QUEUE_DEPTH = 256;

interface PackageQueue {
  readonly waiting: Call[];
  running: number;
}

export interface SchedulerOptions {
  readonly queueDepth?: number;
  readonly killGraceMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly resolve?: HostCallContext['resolve'];
  readonly circuitBreaker?: BreakerConfig;
  readonly breakerClock?: () => number;
}

export interface Scheduler {
  run(pkg: PackageCode, tool: string, args: unknown, grant: Grant, limits: Limits, options: RunOptions): Promise<RunResult>;
  onMessage(worker: Worker, message: WorkerToHost): void;
  onExit(worker: Worker, verdict: Verdict, calls: ReadonlyMap<number, string>): void;
  /** Refuses new calls and fails the queued ones; running ones end with their workers. */
  close(): void;
}

export function createScheduler(options: SchedulerOptions, supervisor: Supervisor): Scheduler {
  const queueDepth = Math.max(0, options.queueDepth ?? DEFAULT_QUEUE_DEPTH);
  const killGraceMs = options.killGraceMs ?? 1000;
  const recheckMs = Math.max(10, options.heartbeatIntervalMs ?? 1000);
  // Per package and remote origin, shared by the package's calls (runtime/io/breaker.ts).
  const breakers = createBreakerRegistry(options.circuitBreaker, options.breakerClock);
  const serveRequest = createRequestServer({ resolve: options.resolve, breakers, supervisor });
  const queues = new Map<string, PackageQueue>();
  const running = new Map<number, Call>();
  let nextCall = 1;
  let closed = false;
  // One periodic check serves every running call (a timer armed and cleared per call costs on the hot
  // path); it runs only while calls run. Its period bounds how late past its deadline a call is judged.
  const watchdogEveryMs = Math.min(100, recheckMs);
  let watchdogTimer: NodeJS.Timeout | null = null;

  function ensureWatchdog(): void {
    if (watchdogTimer !== null) return;
    watchdogTimer = setInterval(() => {
      if (running.size === 0) {
        if (watchdogTimer !== null) clearInterval(watchdogTimer);
        watchdogTimer = null;
        return;
      }
      const now = performance.now();
      for (const call of [...running.values()]) if (now >= call.deadline) watchdog(call);
    }, watchdogEveryMs);
  }

  function queueOf(pkgId: string): PackageQueue {
    let q = queues.get(pkgId);
    if (q === undefined) {
      q = { waiting: [], running: 0 };
      queues.set(pkgId, q);
    }
    return q;
  }

  function admit(call: Call): void {
    const q = queueOf(call.pkg.id);
    if (q.running < call.limits.concurrency && q.waiting.length === 0) {
      start(call, q);
      return;
    }
    if (q.waiting.length >= queueDepth) {
      if (q.running === 0 && q.waiting.length === 0) queues.delete(call.pkg.id);
      throw new SandboxError('CONCURRENCY_LIMIT', `too many calls of ${boundedMessage(call.pkg.name, 100)} waiting; retry later`);
    }
    q.waiting.push(call);
  }

  /** Starts the package's next waiting calls while it has free running slots. */
  function pump(pkgId: string): void {
    const q = queues.get(pkgId);
    if (q === undefined) return;
    while (!closed && q.waiting.length > 0 && q.running < (q.waiting[0] as Call).limits.concurrency) start(q.waiting.shift() as Call, q);
    if (q.running === 0 && q.waiting.length === 0) queues.delete(pkgId);
  }

  function start(call: Call, q: PackageQueue): void {
    q.running++;
    call.state = 'running';
    running.set(call.id, call);
    dispatch(call);
  }

  function dispatch(call: Call): void {
    const worker = supervisor.workerFor(call.pkg.id, call.limits.memoryMb);
    call.worker = worker;
    worker.calls.set(call.id, call.pkg.id);
    if (!worker.loaded.has(call.pkg.id)) {
      worker.loaded.add(call.pkg.id);
      supervisor.send(worker, {
        t: 'load',
        pkg: call.pkg.id,
        name: call.pkg.name,
        source: call.pkg.source,
        memoryMb: call.limits.memoryMb,
        fresh: call.pkg.freshContextPerCall === true,
      });
    }
    const l = call.limits;
    supervisor.send(worker, {
      t: 'call',
      call: call.id,
      pkg: call.pkg.id,
      tool: call.tool,
      args: call.args.text,
      ...(call.args.raw !== undefined ? { raw: call.args.raw } : {}),
      paths: JSON.stringify(call.pkg.paths ?? {}),
      limits: { cpuMs: l.cpuMs, wallMs: l.wallMs, outputBytes: l.outputBytes, hostCalls: l.hostCalls, logBytes: l.logBytes, memoryMb: l.memoryMb },
    });
    // The worker disposes the isolate at wallMs; a call still alive after the grace means the worker does
    // not respond to its own limits. The clock restarts on a re-run: the lost time was not the call's.
    call.deadline = performance.now() + l.wallMs + killGraceMs;
    ensureWatchdog();
  }

  function watchdog(call: Call): void {
    const worker = call.worker;
    if (call.state !== 'running' || worker === null || !worker.alive) return;
    if (!supervisor.responsive(worker) && !supervisor.busyWithOnly(worker, call.pkg.id)) {
      // A silent worker may be stopped or stuck, or running another package's code: nobody can be blamed,
      // and the heartbeat judges it. Look again later.
      call.deadline = performance.now() + recheckMs;
      return;
    }
    supervisor.kill(worker, 'wall-clock watchdog', {
      kind: 'culprit',
      pkg: call.pkg.id,
      call: call.id,
      code: 'SANDBOX_TIMEOUT',
      message: 'the call exceeded its wall-clock limit',
    });
  }

  function callOn(worker: Worker, id: number): Call | undefined {
    const call = running.get(id);
    return call !== undefined && call.worker === worker ? call : undefined;
  }

  function onMessage(worker: Worker, m: WorkerToHost): void {
    switch (m.t) {
      case 'ok': {
        const call = callOn(worker, m.call);
        if (call !== undefined) settle(call, resultOf(m.json, call.started, call.options.keepJson));
        return;
      }
      case 'err': {
        const call = callOn(worker, m.call);
        if (call !== undefined) settle(call, failureOf(m.code, m.message, call.denied, call.circuitOpen));
        return;
      }
      case 'req': {
        const call = callOn(worker, m.call);
        if (call !== undefined) void serveRequest(worker, call, m.req, m.op, m.args, m.body);
        return;
      }
      case 'log': {
        const call = callOn(worker, m.call);
        if (call === undefined) return;
        call.logBytes += m.message.length + (m.data?.length ?? 0);
        call.options.onLog?.(logEventOf(m.level, m.message, m.data));
        return;
      }
      case 'progress': {
        const call = callOn(worker, m.call);
        if (call === undefined) return;
        call.logBytes += m.json.length;
        const event = call.options.onProgress === undefined ? null : progressEventOf(m.json);
        if (event !== null) call.options.onProgress?.(event);
        return;
      }
      case 'fatal':
        supervisor.kill(
          worker,
          'isolate lost control (catastrophic error)',
          m.pkg === null ? { kind: 'crashed' } : { kind: 'culprit', pkg: m.pkg, call: null, code: 'SANDBOX_MEMORY_LIMIT', message: 'the call exceeded its memory limit' },
        );
        return;
      case 'ready':
      case 'pong':
      case 'stats':
      case 'abortReq':
        return;
    }
  }

  function settle(call: Call, outcome: RunResult | SandboxError): void {
    if (call.state === 'settled') return;
    const wasRunning = call.state === 'running';
    call.state = 'settled';
    call.io?.abort(CALL_ENDED);
    call.removeAbortListener?.();
    const q = queues.get(call.pkg.id);
    if (!wasRunning) {
      const at = q?.waiting.indexOf(call) ?? -1;
      if (at >= 0) q?.waiting.splice(at, 1);
    } else {
      running.delete(call.id);
      if (q !== undefined) q.running--;
      const worker = call.worker;
      if (worker !== null && worker.calls.delete(call.id)) {
        afterLimit(worker, call, outcome);
        supervisor.released(worker);
      }
    }
    pump(call.pkg.id);
    if (outcome instanceof SandboxError) call.reject(outcome);
    else call.resolve(outcome);
  }

  /** V8 does not give back what an isolate grew: a worker where a limit was hit is replaced once idle. */
  function afterLimit(worker: Worker, call: Call, outcome: RunResult | SandboxError): void {
    const next = afterLimitOf(call, outcome);
    if (next === null) return;
    if ('recycle' in next) {
      supervisor.recycle(worker, next.recycle);
    } else if (worker.pid !== undefined) {
      void residentBytes(worker.pid).then((rss) => {
        if (rss !== null && overHalfCeiling(rss, worker.ceilingMb)) supervisor.recycle(worker, `resident ${inMiB(rss)} MiB after ${next.checkResident}`);
      });
    }
  }

  function onExit(_worker: Worker, verdict: Verdict, calls: ReadonlyMap<number, string>): void {
    for (const id of calls.keys()) {
      const call = running.get(id);
      if (call === undefined || call.state !== 'running') continue;
      const outcome = exitOutcome(verdict, call, closed);
      if (outcome === 'rerun') {
        // Nothing has left the sandbox for this call: running it again on a fresh worker is safe.
        call.retried = true;
        dispatch(call);
      } else {
        settle(call, outcome);
      }
    }
  }

  function run(pkg: PackageCode, tool: string, args: unknown, grant: Grant, limits: Limits, runOptions: RunOptions): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      if (closed) throw new SandboxError('SANDBOX_CLOSED', 'the sandbox was shut down');
      if (runOptions.signal?.aborted) throw new SandboxError('CANCELLED', 'the call was cancelled');
      const frame = runOptions.argsFrame ?? { text: JSON.stringify(args === undefined ? null : args) };
      // A frame with raw strings is shorter than the arguments' JSON, and made only when that is within the limit.
      if (utf8LongerThan(frame.text, limits.inputBytes)) {
        throw new SandboxError('INPUT_TOO_LARGE', 'the arguments are larger than the input limit');
      }
      const call = newCall({ id: nextCall++, pkg, tool, args: frame, grant, limits, options: runOptions, resolve, reject });
      admit(call);
      if (runOptions.signal !== undefined) call.removeAbortListener = cancelOnAbort(runOptions.signal, call, cancel);
    });
  }

  /** A call's signal was aborted: it ends with CANCELLED, and its worker is told to stop it. */
  function cancel(call: Call): void {
    const worker = call.state === 'running' ? call.worker : null;
    settle(call, new SandboxError('CANCELLED', 'the call was cancelled'));
    if (worker !== null) supervisor.send(worker, { t: 'cancel', call: call.id });
  }

  return {
    run,
    onMessage,
    onExit,
    close() {
      closed = true;
      for (const q of [...queues.values()]) for (const call of [...q.waiting]) settle(call, new SandboxError('SANDBOX_CLOSED', 'the sandbox was shut down'));
    },
  };
}
