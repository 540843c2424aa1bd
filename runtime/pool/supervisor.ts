/**
 * Worker supervision: spawning the worker processes that host the isolates, placing packages on them, and
 * watching them from outside. Knows nothing of calls beyond which ones a worker holds; the call state
 * machine (runtime/pool/scheduler.ts) decides what a worker's death means for each of them.
 *
 * - Affinity: each package is placed on one worker (sticky, fewest packages), where its isolate stays warm.
 * - Heartbeat: every worker is pinged; any frame from it counts as alive. A worker silent past the
 *   threshold (SIGSTOP, a stuck native call) is killed and replaced; its calls fail retryably, blamed on
 *   no package. The threshold is far above any pause of a merely loaded machine, and a verdict is never
 *   given on a tick that came late (the host itself was not running, so the worker's frames were not read).
 * - Memory: a worker's resident-memory ceiling follows the packages it hosts (base + memoryMb × factor
 *   each, capped), passed at spawn; the worker trims itself at it, the host kills it at 1.5×. A worker
 *   whose ceiling no longer covers its packages, or whose isolate hit a memory-related limit, is recycled:
 *   it takes no new calls and exits once idle, so memory returns to a fresh process's baseline.
 *
 * One worker's record and its spawn are in runtime/pool/worker.ts; the ceiling arithmetic and whom a kill
 * for memory blames in runtime/pool/worker-memory.ts.
 */
import { availableParallelism } from 'node:os';
import { encodeFrame } from '../protocol.ts';
import type { HostToWorker, WorkerToHost } from '../protocol.ts';
import { processState, residentBytes } from '../worker-process.ts';
import { describeWorker as describe, spawnPoolWorker } from './worker.ts';
import { detectCpuBinding, pinFor } from './cpu-binding.ts';
import type { CpuBinding } from './cpu-binding.ts';
import type { Verdict, Worker } from './worker.ts';
import { DEFAULT_PACKAGE_MB, inMiB, memoryVerdict, overKillLine, workerCeilingMb } from './worker-memory.ts';

export interface SupervisorOptions {
  readonly workers?: number;
  readonly workerRssMb?: number;
  readonly heartbeatIntervalMs?: number;
  readonly heartbeatTimeoutMs?: number;
  /** Start the workers in the background: at once (true), or once this settles (e.g. the handshake is done). */
  readonly prewarm?: boolean | PromiseLike<unknown>;
  /** Each worker slot bound to one CPU, where the system allows it (./cpu-binding.ts). Default false. */
  readonly bindWorkers?: boolean;
  /** With bindWorkers: how to bind, in place of what detectCpuBinding finds (tests inject one). */
  readonly cpuBinding?: CpuBinding | null;
  readonly onDiagnostic?: (event: { readonly kind: string; readonly detail: string }) => void;
}

export interface SupervisorEvents {
  /** A frame from a live worker (pongs are handled here). */
  onMessage(worker: Worker, message: WorkerToHost): void;
  /** A worker ended; `calls` are the ids it held, for the scheduler to settle or re-run. */
  onExit(worker: Worker, verdict: Verdict, calls: ReadonlyMap<number, string>): void;
}

export interface Supervisor {
  /** The live worker a package's calls go to, started or replaced as needed. */
  workerFor(pkgId: string, memoryMb: number): Worker;
  send(worker: Worker, message: HostToWorker): void;
  /** Whether the worker has been heard from within two heartbeat intervals. */
  responsive(worker: Worker): boolean;
  /**
   * Whether a silent worker is busy with this package's code alone: its main thread is running (not
   * stopped, not waiting) and every call it holds is this package's, so nobody else's code can be running.
   */
  busyWithOnly(worker: Worker, pkgId: string): boolean;
  kill(worker: Worker, reason: string, verdict: Verdict): void;
  /** Replaces the worker once that is possible; `reason` is for diagnostics. */
  recycle(worker: Worker, reason: string): void;
  /** A call left the worker: a retiring or recycled worker that is now idle ends. */
  released(worker: Worker): void;
  unload(pkgId: string): void;
  stats(): { workers: number; restarts: number; packages: number; pids: number[] };
  close(): Promise<void>;
}

export function createSupervisor(options: SupervisorOptions, events: SupervisorEvents): Supervisor {
  const workerCount = Math.max(1, options.workers ?? Math.min(4, Math.max(2, availableParallelism())));
  const capMb = options.workerRssMb ?? 1024;
  const intervalMs = Math.max(10, options.heartbeatIntervalMs ?? 1_000);
  const timeoutMs = Math.max(intervalMs * 2, options.heartbeatTimeoutMs ?? 10_000);
  // A starting process loads node and isolated-vm first; under load that can take seconds.
  const startupMs = Math.max(timeoutMs, 30_000);
  const diag = options.onDiagnostic ?? (() => undefined);
  // Given up for good once a bound worker ends before it has started (taskset refused the CPU, say): the
  // workers after it start unbound.
  let binding = options.bindWorkers === true ? (options.cpuBinding === undefined ? detectCpuBinding() : options.cpuBinding) : null;

  /** The current worker of each index; a retiring one is no longer here but still in `live`. */
  const current: (Worker | null)[] = new Array<Worker | null>(workerCount).fill(null);
  const live = new Set<Worker>();
  const assignment = new Map<string, number>();
  /** Heap limit of each package as last seen (MiB), for ceilings. */
  const memoryOf = new Map<string, number>();
  let restarts = 0;
  let closed = false;
  let lastTick = performance.now();
  let pingSeq = 0;

  const heartbeat = setInterval(tick, intervalMs);
  heartbeat.unref();
  let memoryPoll: NodeJS.Timeout | null = null;

  /** Heap limits of the packages placed on a worker index, MiB. */
  function hosted(index: number): number[] {
    const mbs: number[] = [];
    for (const [pkg, i] of assignment) if (i === index) mbs.push(memoryOf.get(pkg) ?? DEFAULT_PACKAGE_MB);
    return mbs;
  }

  function start(index: number): Worker {
    // Room for as much again as it hosts now: a worker is replaced to grow its ceiling at most a few times.
    const mbs = hosted(index);
    const ceilingMb = workerCeilingMb([...mbs, ...mbs], capMb);
    const worker = spawnPoolWorker(index, ceilingMb, {
      onFrame,
      onProtocolFault: (w, reason) => kill(w, `protocol fault: ${reason}`, { kind: 'crashed' }),
      onDiagnostic: diag,
      onExit,
    }, binding === null ? undefined : pinFor(binding, index));
    current[index] = worker;
    live.add(worker);
    return worker;
  }

  function onFrame(worker: Worker, m: WorkerToHost): void {
    if (!worker.alive) return;
    worker.lastSeen = performance.now();
    worker.started = true;
    if (m.t === 'pong' || m.t === 'ready') return;
    events.onMessage(worker, m);
  }

  /** Starting more than one successor per index at once is refused, so recycling cannot pile up processes. */
  function retiringAt(index: number): boolean {
    for (const w of live) if (w.index === index && w.retiring) return true;
    return false;
  }

  function retire(worker: Worker, reason: string): void {
    if (worker.retiring || !worker.alive) return;
    diag({ kind: 'worker-recycle', detail: `${describe(worker)}: ${reason}` });
    worker.retiring = true;
    if (current[worker.index] === worker) current[worker.index] = null;
    released(worker);
  }

  function workerFor(pkgId: string, memoryMb: number): Worker {
    memoryOf.set(pkgId, Math.max(memoryMb, memoryOf.get(pkgId) ?? 0));
    let index = assignment.get(pkgId);
    if (index === undefined) {
      const counts = new Array<number>(workerCount).fill(0);
      for (const i of assignment.values()) counts[i] = (counts[i] ?? 0) + 1;
      index = 0;
      for (let i = 1; i < workerCount; i++) if ((counts[i] ?? 0) < (counts[index] ?? 0)) index = i;
      assignment.set(pkgId, index);
    }
    let worker = current[index] ?? null;
    if (worker !== null && worker.recycle === null && workerCeilingMb(hosted(index), capMb) > worker.ceilingMb) {
      worker.recycle = `its ceiling of ${worker.ceilingMb} MiB no longer covers its packages`;
    }
    if (worker !== null && worker.recycle !== null && !retiringAt(index)) {
      retire(worker, worker.recycle);
      worker = null;
    }
    return worker !== null && worker.alive ? worker : start(index);
  }

  function send(worker: Worker, message: HostToWorker): void {
    if (worker.alive) worker.writeFrame(encodeFrame(message as HostToWorker & Record<string, unknown>));
  }

  function responsive(worker: Worker): boolean {
    return performance.now() - worker.lastSeen <= intervalMs * 2;
  }

  function busyWithOnly(worker: Worker, pkgId: string): boolean {
    for (const pkg of worker.calls.values()) if (pkg !== pkgId) return false;
    return worker.pid !== undefined && processState(worker.pid) === 'R';
  }

  function kill(worker: Worker, reason: string, verdict: Verdict): void {
    if (!worker.alive) return;
    worker.verdict ??= verdict;
    diag({ kind: 'worker-kill', detail: `${describe(worker)}: ${reason}` });
    worker.process.child.kill('SIGKILL');
    onExit(worker, null, 'SIGKILL');
  }

  function recycle(worker: Worker, reason: string): void {
    if (!worker.alive || worker.retiring) return;
    worker.recycle ??= reason;
    // Now if nothing runs on it or a successor may start; otherwise at its next call or once idle.
    if (worker.calls.size === 0 || !retiringAt(worker.index)) retire(worker, reason);
  }

  function released(worker: Worker): void {
    if (!worker.alive || worker.calls.size > 0) return;
    if (!worker.retiring && worker.recycle !== null && !retiringAt(worker.index)) {
      retire(worker, worker.recycle);
      return;
    }
    if (!worker.retiring) return;
    send(worker, { t: 'shutdown' });
    setTimeout(() => {
      if (worker.alive) kill(worker, 'retired worker did not exit', { kind: 'crashed' });
    }, 2_000).unref();
  }

  function onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    if (!worker.alive) return;
    worker.alive = false;
    live.delete(worker);
    if (!closed && !worker.retiring) restarts++;
    diag({ kind: 'worker-exit', detail: `${describe(worker)} exited (${code ?? signal})` });
    if (binding !== null && !worker.started && !closed) {
      binding = null;
      diag({ kind: 'cpu-binding', detail: `${describe(worker)} ended before it started, bound to a CPU; workers start unbound from now on` });
    }
    if (current[worker.index] === worker) current[worker.index] = null;
    const calls = new Map(worker.calls);
    worker.calls.clear();
    events.onExit(worker, closed ? { kind: 'closed' } : (worker.verdict ?? { kind: 'crashed' }), calls);
    // A successor held back while this one retired may start now.
    const next = current[worker.index];
    if (next !== null && next !== undefined && next.recycle !== null) recycle(next, next.recycle);
  }

  function tick(): void {
    const now = performance.now();
    // A tick this late means this process did not run (a stall of its own): what the workers sent may be
    // waiting unread, so their silence is not held against them.
    const late = now - lastTick > Math.max(intervalMs * 3, timeoutMs / 2);
    lastTick = now;
    for (const worker of [...live]) {
      if (late) worker.lastSeen = Math.max(worker.lastSeen, now - intervalMs);
      const allowance = worker.started ? timeoutMs : startupMs;
      if (now - worker.lastSeen > allowance) {
        // Judge after the poll phase, which reads whatever the worker did send.
        setImmediate(() => {
          if (worker.alive && performance.now() - worker.lastSeen > allowance) {
            kill(worker, `no heartbeat for ${Math.round(performance.now() - worker.lastSeen)} ms`, { kind: 'unresponsive' });
          }
        });
        continue;
      }
      send(worker, { t: 'ping', seq: ++pingSeq });
    }
  }

  function ensureMemoryPoll(): void {
    if (memoryPoll !== null) return;
    memoryPoll = setInterval(() => {
      let busy = false;
      for (const worker of live) {
        if (worker.calls.size === 0 || worker.pid === undefined) continue;
        busy = true;
        void residentBytes(worker.pid).then((rss) => {
          // The worker trims its own largest isolate at its ceiling; half again above it, it is killed.
          if (rss === null || !worker.alive || !overKillLine(rss, worker.ceilingMb)) return;
          kill(worker, `resident memory ${inMiB(rss)} MiB over its ceiling of ${worker.ceilingMb} MiB`, memoryVerdict(worker));
        });
      }
      if (!busy && memoryPoll !== null) {
        clearInterval(memoryPoll);
        memoryPoll = null;
      }
    }, 100);
    memoryPoll.unref();
  }

  const prewarm = (): void => {
    for (let i = 0; i < workerCount; i++) if (!closed && current[i] === null) start(i);
  };
  if (options.prewarm === true) {
    // After the current turn, so that a server answers its first request before paying for the spawns.
    setTimeout(prewarm, 0).unref();
  } else if (typeof options.prewarm === 'object' && options.prewarm !== null) {
    // Once the server's start-up is done (its handshake and first tools/list answered): the spawns would
    // otherwise compete with it for the cores. A package called before then starts its worker itself.
    Promise.resolve(options.prewarm).then(prewarm, prewarm);
  }

  return {
    workerFor(pkgId, memoryMb) {
      const worker = workerFor(pkgId, memoryMb);
      ensureMemoryPoll();
      return worker;
    },
    send,
    responsive,
    busyWithOnly,
    kill,
    recycle,
    released,
    unload(pkgId) {
      const index = assignment.get(pkgId);
      if (index === undefined) return;
      assignment.delete(pkgId);
      memoryOf.delete(pkgId);
      for (const worker of live) if (worker.loaded.delete(pkgId)) send(worker, { t: 'unload', pkg: pkgId });
    },
    stats() {
      const workers = current.filter((w): w is Worker => w !== null && w.alive);
      return { workers: workers.length, restarts, packages: assignment.size, pids: workers.flatMap((w) => (w.pid === undefined ? [] : [w.pid])) };
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      const exits: Promise<void>[] = [];
      for (const worker of live) {
        exits.push(
          new Promise<void>((done) => {
            const timer = setTimeout(() => {
              worker.process.child.kill('SIGKILL');
              done();
            }, 1000);
            worker.process.child.once('exit', () => {
              clearTimeout(timer);
              done();
            });
          }),
        );
        send(worker, { t: 'shutdown' });
      }
      await Promise.all(exits);
      if (memoryPoll !== null) clearInterval(memoryPoll);
    },
  };
}
