/**
 * The sandbox supervisor: a pool of worker processes hosting the isolates, and the watchdog that enforces
 * limits from outside them. Tool code never runs in this process.
 *
 * - Each package is assigned to one worker (sticky, least-loaded), where its isolate stays warm.
 * - The watchdog kills a worker whose call outlives its wall limit plus a grace period, or whose resident
 *   memory passes its ceiling: isolated-vm cannot always stop a runaway isolate, a process kill can.
 * - A killed or crashed worker is replaced. Its other calls are retried once, transparently, when they had
 *   made no capability request yet (no side effect has left the sandbox, so re-running is safe); otherwise
 *   they fail with the retryable code WORKER_CRASHED.
 */
import { availableParallelism } from 'node:os';
import type { Grant, PackageCode, RunOptions, RunResult, Sandbox, SandboxOptions, SandboxStats } from './api.ts';
import { SANDBOX_ERROR_CODES, SandboxError, boundedMessage } from './errors.ts';
import type { SandboxErrorCode } from './errors.ts';
import { fileAccessFor, runHostCall } from './host-calls.ts';
import type { HostCallContext } from './host-calls.ts';
import type { createFileAccess } from './io/files.ts';
import { encodeFrame, readFrames } from './protocol.ts';
import type { HostToWorker, WorkerToHost } from './protocol.ts';
import type { CapabilityEvent, Limits } from './types.ts';
import { residentBytes, residentBytesSync, spawnWorker } from './worker-process.ts';

interface CallState {
  readonly id: number;
  readonly pkg: PackageCode;
  readonly tool: string;
  readonly argsJson: string;
  readonly grant: Grant;
  readonly limits: Limits;
  readonly options: RunOptions;
  readonly started: number;
  /** Aborts the call's host I/O; created on its first capability request (creating one per call is costly). */
  io: AbortController | null;
  readonly resolve: (r: RunResult) => void;
  readonly reject: (e: SandboxError) => void;
  worker: WorkerSlot | null;
  watchdog: NodeJS.Timeout | null;
  /** A capability request reached the host: re-running the call could repeat a side effect. */
  sideEffects: boolean;
  /** A capability was denied during the call: its failure is reported as CAPABILITY_DENIED. */
  denied: boolean;
  retried: boolean;
  settled: boolean;
  files: Promise<ReturnType<typeof createFileAccess>> | null;
  removeAbortListener: (() => void) | null;
}

interface WorkerSlot {
  readonly index: number;
  readonly child: ReturnType<typeof spawnWorker>['child'];
  readonly channel: ReturnType<typeof spawnWorker>['channel'];
  readonly loaded: Set<string>;
  readonly calls: Map<number, CallState>;
  alive: boolean;
  /** Takes no new calls; shuts down once its calls are done. */
  retiring: boolean;
  /** Package blamed for the worker's death, when known. */
  culprit: { pkg: string; code: SandboxErrorCode; message: string } | null;
}

const LIMIT_CODES: ReadonlySet<string> = new Set(['SANDBOX_MEMORY_LIMIT', 'SANDBOX_CPU_LIMIT', 'SANDBOX_TIMEOUT', 'OUTPUT_TOO_LARGE', 'OUTPUT_INVALID', 'TOOL_THREW']);

export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const workerCount = Math.max(1, options.workers ?? Math.min(4, Math.max(2, availableParallelism())));
  const rssMb = options.workerRssMb ?? 1024;
  const killGraceMs = options.killGraceMs ?? 1000;
  const diag = options.onDiagnostic ?? (() => undefined);

  const slots: (WorkerSlot | null)[] = new Array(workerCount).fill(null);
  const assignment = new Map<string, number>();
  const inflight = new Map<string, number>();
  let nextCall = 1;
  let restarts = 0;
  let closed = false;
  let memoryPoll: NodeJS.Timeout | null = null;

  function startWorker(index: number): WorkerSlot {
    const { child, channel } = spawnWorker({ rssMb });
    const slot: WorkerSlot = { index, child, channel, loaded: new Set(), calls: new Map(), alive: true, retiring: false, culprit: null };
    slots[index] = slot;
    readFrames(
      channel,
      (m) => onWorkerMessage(slot, m as WorkerToHost),
      (reason) => killWorker(slot, `protocol fault: ${reason}`),
    );
    channel.on('error', () => undefined);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => diag({ kind: 'worker-stderr', detail: boundedMessage(chunk, 500) }));
    child.on('exit', (code, signal) => onWorkerExit(slot, code, signal));
    child.on('error', () => undefined);
    return slot;
  }

  function workerFor(pkgId: string): WorkerSlot {
    let index = assignment.get(pkgId);
    if (index === undefined) {
      // Least-loaded worker by assigned packages.
      const counts = new Array<number>(workerCount).fill(0);
      for (const i of assignment.values()) counts[i] = (counts[i] ?? 0) + 1;
      index = 0;
      for (let i = 1; i < workerCount; i++) if ((counts[i] ?? 0) < (counts[index] ?? 0)) index = i;
      assignment.set(pkgId, index);
    }
    const slot = slots[index];
    return slot !== null && slot !== undefined && slot.alive && !slot.retiring ? slot : startWorker(index);
  }

  function send(slot: WorkerSlot, message: HostToWorker): void {
    if (slot.alive) slot.channel.write(encodeFrame(message as HostToWorker & Record<string, unknown>));
  }

  function dispatch(call: CallState): void {
    const slot = workerFor(call.pkg.id);
    call.worker = slot;
    slot.calls.set(call.id, call);
    if (!slot.loaded.has(call.pkg.id)) {
      slot.loaded.add(call.pkg.id);
      send(slot, {
        t: 'load',
        pkg: call.pkg.id,
        name: call.pkg.name,
        source: call.pkg.source,
        memoryMb: call.limits.memoryMb,
        fresh: call.pkg.freshContextPerCall === true,
      });
    }
    send(slot, {
      t: 'call',
      call: call.id,
      pkg: call.pkg.id,
      tool: call.tool,
      args: call.argsJson,
      paths: JSON.stringify(call.pkg.paths ?? {}),
      limits: {
        cpuMs: call.limits.cpuMs,
        wallMs: call.limits.wallMs,
        outputBytes: call.limits.outputBytes,
        hostCalls: call.limits.hostCalls,
        logBytes: call.limits.logBytes,
        memoryMb: call.limits.memoryMb,
      },
    });
    if (call.watchdog === null) {
      // The worker disposes the isolate at wallMs; if the call is still alive after the grace, the
      // worker itself is not responding to its own limits and is killed.
      call.watchdog = setTimeout(() => {
        const w = call.worker;
        if (call.settled || w === null) return;
        w.culprit = { pkg: call.pkg.id, code: 'SANDBOX_TIMEOUT', message: 'the call exceeded its wall-clock limit' };
        killWorker(w, 'wall-clock watchdog');
      }, call.limits.wallMs + killGraceMs);
    }
    ensureMemoryPoll();
  }

  function onWorkerMessage(slot: WorkerSlot, m: WorkerToHost): void {
    switch (m.t) {
      case 'ready':
        return;
      case 'ok': {
        const call = slot.calls.get(m.call);
        if (call === undefined) return;
        let value: unknown;
        try {
          value = JSON.parse(m.json);
        } catch {
          settle(call, new SandboxError('OUTPUT_INVALID', 'the tool returned malformed output'));
          return;
        }
        settle(call, { value, outputBytes: Buffer.byteLength(m.json), durationMs: performance.now() - call.started });
        return;
      }
      case 'err': {
        const call = slot.calls.get(m.call);
        if (call === undefined) return;
        let code = (isSandboxCode(m.code) ? m.code : 'TOOL_THREW') as SandboxErrorCode;
        // A denial the tool did not survive is reported as such: the host saw it, so it cannot be forged.
        if (code === 'TOOL_THREW' && call.denied) code = 'CAPABILITY_DENIED';
        settle(call, new SandboxError(code, boundedMessage(m.message)));
        return;
      }
      case 'req': {
        const call = slot.calls.get(m.call);
        if (call === undefined) return;
        void serveRequest(slot, call, m.req, m.op, m.args, m.body);
        return;
      }
      case 'log': {
        const call = slot.calls.get(m.call);
        const level = m.level === 'debug' || m.level === 'warn' || m.level === 'error' ? m.level : 'info';
        let data: unknown;
        if (m.data !== undefined) {
          try {
            data = JSON.parse(m.data);
          } catch {
            data = undefined;
          }
        }
        call?.options.onLog?.({ level, message: boundedMessage(m.message, 4096), data });
        return;
      }
      case 'progress': {
        const call = slot.calls.get(m.call);
        if (call === undefined || call.options.onProgress === undefined) return;
        try {
          const p = JSON.parse(m.json) as { progress?: unknown; total?: unknown; message?: unknown };
          if (typeof p.progress !== 'number' || !Number.isFinite(p.progress)) return;
          call.options.onProgress({
            progress: p.progress,
            total: typeof p.total === 'number' && Number.isFinite(p.total) ? p.total : undefined,
            message: typeof p.message === 'string' ? boundedMessage(p.message, 500) : undefined,
          });
        } catch {
          // malformed progress is dropped
        }
        return;
      }
      case 'fatal':
        slot.culprit = m.pkg === null ? null : { pkg: m.pkg, code: 'SANDBOX_MEMORY_LIMIT', message: 'the call exceeded its memory limit' };
        killWorker(slot, 'isolate lost control (catastrophic error)');
        return;
      case 'stats':
      case 'abortReq':
        return;
    }
  }

  async function serveRequest(slot: WorkerSlot, call: CallState, req: number, op: string, argsJson: string, body: Uint8Array | undefined): Promise<void> {
    call.sideEffects = true;
    const onEvent = (e: CapabilityEvent) => {
      if (!e.allowed) call.denied = true;
      call.options.onCapability?.(e);
    };
    call.io ??= new AbortController();
    const ctx: HostCallContext = { grant: call.grant, limits: call.limits, signal: call.io.signal, resolve: options.resolve, onEvent };
    const files = () => {
      call.files ??= fileAccessFor(ctx);
      return call.files;
    };
    try {
      const result = await runHostCall(
        ctx,
        files,
        op,
        argsJson,
        body,
      );
      if (call.settled || call.worker !== slot) return;
      send(slot, {
        t: 'res',
        call: call.id,
        req,
        ok: true,
        json: result.json,
        ...(result.bytes === undefined ? {} : { bytes: result.bytes }),
      });
    } catch (e) {
      if (call.settled || call.worker !== slot) return;
      const err = e instanceof SandboxError ? e : new SandboxError('CAPABILITY_FAILED', 'the host call failed');
      if (err.code === 'CAPABILITY_DENIED') call.denied = true;
      send(slot, { t: 'res', call: call.id, req, ok: false, json: JSON.stringify({ code: err.code, message: err.message }) });
    }
  }

  function settle(call: CallState, outcome: RunResult | SandboxError): void {
    if (call.settled) return;
    call.settled = true;
    if (call.watchdog !== null) clearTimeout(call.watchdog);
    call.io?.abort();
    call.removeAbortListener?.();
    const worker = call.worker;
    worker?.calls.delete(call.id);
    if (worker !== null && worker.retiring) retireWhenIdle(worker);
    inflight.set(call.pkg.id, (inflight.get(call.pkg.id) ?? 1) - 1);
    if (outcome instanceof SandboxError) {
      if (call.worker !== null && LIMIT_CODES.has(outcome.code)) recycleIfBloated(call.worker);
      call.reject(outcome);
    } else {
      call.resolve(outcome);
    }
  }

  /**
   * A worker that hit a limit may keep the memory its isolate grew (V8 does not always give it back):
   * above half its ceiling it is retired: it takes no new calls, and ends once its calls are done, so
   * resident memory returns to normal.
   */
  function recycleIfBloated(slot: WorkerSlot): void {
    const pid = slot.child.pid;
    if (pid === undefined || !slot.alive) return;
    const rss = residentBytesSync(pid);
    if (rss === null || rss < (rssMb * 1024 * 1024) / 2) return;
    diag({ kind: 'worker-recycle', detail: `worker ${slot.index} resident ${Math.round(rss / 1048576)} MiB` });
    if (slots[slot.index] === slot) slots[slot.index] = null;
    slot.retiring = true;
    retireWhenIdle(slot);
  }

  function retireWhenIdle(slot: WorkerSlot): void {
    if (!slot.retiring || slot.calls.size > 0 || !slot.alive) return;
    send(slot, { t: 'shutdown' });
    setTimeout(() => {
      if (slot.alive) killWorker(slot, 'retired worker did not exit');
    }, 1000).unref();
  }

  function killWorker(slot: WorkerSlot, reason: string): void {
    if (!slot.alive) return;
    diag({ kind: 'worker-kill', detail: reason });
    slot.child.kill('SIGKILL');
    onWorkerExit(slot, null, 'SIGKILL');
  }

  function onWorkerExit(slot: WorkerSlot, code: number | null, signal: NodeJS.Signals | null): void {
    if (!slot.alive) return;
    slot.alive = false;
    if (!closed) restarts++;
    diag({ kind: 'worker-exit', detail: `worker ${slot.index} exited (${code ?? signal})` });
    if (slots[slot.index] === slot) slots[slot.index] = null;
    const orphans = [...slot.calls.values()];
    slot.calls.clear();
    for (const call of orphans) {
      if (call.settled) continue;
      if (closed) {
        settle(call, new SandboxError('SANDBOX_CLOSED', 'the sandbox was shut down'));
      } else if (slot.culprit !== null && slot.culprit.pkg === call.pkg.id) {
        settle(call, new SandboxError(slot.culprit.code, slot.culprit.message));
      } else if (!call.sideEffects && !call.retried) {
        // Nothing has left the sandbox for this call: running it again on a fresh worker is safe.
        call.retried = true;
        dispatch(call);
      } else {
        settle(call, new SandboxError('WORKER_CRASHED', 'the sandbox worker serving this call was restarted; retry the call'));
      }
    }
  }

  function ensureMemoryPoll(): void {
    if (memoryPoll !== null) return;
    memoryPoll = setInterval(() => {
      let busy = false;
      for (const slot of slots) {
        if (slot === null || !slot.alive || slot.calls.size === 0) continue;
        busy = true;
        const pid = slot.child.pid;
        if (pid === undefined) continue;
        void residentBytes(pid).then((rss) => {
          // The worker trims its own largest isolate at its ceiling; half again above it, it is killed.
          if (rss !== null && rss > rssMb * 1.5 * 1024 * 1024 && slot.alive) killWorker(slot, 'resident memory ceiling');
        });
      }
      if (!busy && memoryPoll !== null) {
        clearInterval(memoryPoll);
        memoryPoll = null;
      }
    }, 100);
    memoryPoll.unref();
  }

  if (options.prewarm === true) {
    // After the current turn, so that a server answers its first request before paying for the spawns.
    setTimeout(() => {
      for (let i = 0; i < workerCount; i++) if (!closed && slots[i] === null) startWorker(i);
    }, 0).unref();
  }

  return {
    run(pkg: PackageCode, tool: string, args: unknown, grant: Grant, limits: Limits, runOptions: RunOptions = {}): Promise<RunResult> {
      return new Promise<RunResult>((resolve, reject) => {
        if (closed) throw new SandboxError('SANDBOX_CLOSED', 'the sandbox was shut down');
        if (runOptions.signal?.aborted) throw new SandboxError('CANCELLED', 'the call was cancelled');
        const argsJson = JSON.stringify(args === undefined ? null : args);
        if (Buffer.byteLength(argsJson) > limits.inputBytes) {
          throw new SandboxError('INPUT_TOO_LARGE', 'the arguments are larger than the input limit');
        }
        const busy = inflight.get(pkg.id) ?? 0;
        if (busy >= limits.concurrency) {
          throw new SandboxError('CONCURRENCY_LIMIT', `too many calls of ${boundedMessage(pkg.name, 100)} in flight`);
        }
        inflight.set(pkg.id, busy + 1);
        const call: CallState = {
          id: nextCall++,
          pkg,
          tool,
          argsJson,
          grant,
          limits,
          options: runOptions,
          started: performance.now(),
          io: null,
          resolve,
          reject,
          worker: null,
          watchdog: null,
          sideEffects: false,
          denied: false,
          retried: false,
          settled: false,
          files: null,
          removeAbortListener: null,
        };
        const signal = runOptions.signal;
        if (signal !== undefined) {
          const onAbort = () => {
            const w = call.worker;
            settle(call, new SandboxError('CANCELLED', 'the call was cancelled'));
            if (w !== null) send(w, { t: 'cancel', call: call.id });
          };
          signal.addEventListener('abort', onAbort, { once: true });
          call.removeAbortListener = () => signal.removeEventListener('abort', onAbort);
        }
        dispatch(call);
      });
    },

    async unload(packageId: string): Promise<void> {
      const index = assignment.get(packageId);
      if (index === undefined) return;
      assignment.delete(packageId);
      const slot = slots[index];
      if (slot !== null && slot !== undefined && slot.alive && slot.loaded.delete(packageId)) send(slot, { t: 'unload', pkg: packageId });
    },

    stats(): SandboxStats {
      const live = slots.filter((s): s is WorkerSlot => s !== null && s.alive);
      return {
        workers: live.length,
        workerRestarts: restarts,
        packagesLoaded: assignment.size,
        workerPids: live.flatMap((s) => (s.child.pid === undefined ? [] : [s.child.pid])),
      };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const exits: Promise<void>[] = [];
      for (const slot of slots) {
        if (slot === null || !slot.alive) continue;
        exits.push(
          new Promise<void>((done) => {
            const timer = setTimeout(() => {
              slot.child.kill('SIGKILL');
              done();
            }, 1000);
            slot.child.once('exit', () => {
              clearTimeout(timer);
              done();
            });
          }),
        );
        send(slot, { t: 'shutdown' });
      }
      await Promise.all(exits);
      if (memoryPoll !== null) clearInterval(memoryPoll);
    },
  };
}

const KNOWN_CODES: ReadonlySet<string> = new Set(SANDBOX_ERROR_CODES);

function isSandboxCode(code: string): boolean {
  return KNOWN_CODES.has(code);
}
