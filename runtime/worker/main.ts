/**
 * A sandbox worker process: hosts the isolates of the packages the host assigns to it and runs their calls.
 * It has no file or network rights of its own (Node's permission model, see runtime/worker-process.ts):
 * every capability request travels to the host over fd 3, which checks the grant and does the I/O.
 *
 * Tool code never runs on this process's main thread: every entry into an isolate is asynchronous and runs
 * on isolated-vm's threads, so the isolates of different packages run at the same time and a busy package
 * never delays another's calls; the calls of one package serialize on its isolate.
 *
 * Limits enforced here, each reported with the code of the limit that fired: CPU time (the entry's
 * isolated-vm timeout, and a sampler of the CPU time charged to each call), wall time (the isolate is
 * disposed at the deadline), memory (isolated-vm's heap limit; the running isolate is disposed when the
 * process passes its resident ceiling), output size, host-call and log quotas. The host enforces wall time
 * again from outside by killing this process, because isolated-vm cannot always stop a runaway isolate.
 *
 * A call is done only when the entry into its isolate that produced its result has returned: a result
 * posted by code that keeps running afterwards (a microtask loop) is held, and the call fails with the
 * limit that stops that code.
 */
import { Socket } from 'node:net';
import { EntryError, PackageIsolate, freshArrayBuffer } from '../isolate.ts';
import type { CallQuota, IsolateHooks, PreparedIsolate } from '../isolate.ts';
import { createFrameWriter, encodeFrame, readFrames } from '../protocol.ts';
import { CpuMeter } from './cpu-meter.ts';
import type { HostToWorker, WorkerCallLimits, WorkerToHost } from '../protocol.ts';

const RSS_LIMIT_BYTES = Number(process.env.WARDEN_WORKER_RSS_MB ?? '1024') * 1024 * 1024;
const CANCEL_GRACE_MS = 200;
const TOOL_ERROR_CODES = new Set(['TOOL_THREW', 'OUTPUT_INVALID', 'OUTPUT_TOO_LARGE', 'TOOL_NOT_FOUND']);
const LOG_LEVELS = new Set(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency']);

interface PackageSource {
  name: string;
  source: string;
  memoryMb: number;
  fresh: boolean;
}

interface PackageState {
  /** The warm isolate once created: the synchronous fast path of every later call. */
  ready?: PackageIsolate;
  /** The warm isolate (or its creation in progress); undefined until the first call. */
  isolate?: Promise<PackageIsolate>;
  /** For fresh-per-call packages: the next isolate, created ahead of time. */
  spare?: Promise<PackageIsolate>;
  /** A cancelled call's code was running in the warm isolate: settles once it stopped or was reset. */
  cancelling?: Promise<void>;
}

/** The outcome the isolate posted for a call, held until the entry that posted it has returned. */
type Outcome = { ok: true; json: string } | { ok: false; code: string; message: string };

interface CallRecord {
  id: number;
  pkg: string;
  iso: PackageIsolate | null;
  limits: WorkerCallLimits;
  /** CPU time of the isolate charged to this call (its completed entries), ms. */
  cpuUsed: number;
  /** performance.now() at which the call's wall-clock limit passes. */
  deadline: number;
  settled: boolean;
  timers: Set<NodeJS.Timeout>;
  hostCalls: number;
  fresh: boolean;
  held: Outcome | null;
}

const socket = new Socket({ fd: 3, readable: true, writable: true });
const sources = new Map<string, PackageSource>();
const packages = new Map<string, PackageState>();
const calls = new Map<number, CallRecord>();
let sampler: NodeJS.Timeout | null = null;
/** The heap limit of the first spare: the default of a package's memoryMb (runtime/types.ts). */
const DEFAULT_SPARE_MB = 64;
/** An isolate prepared ahead for the next package's first call (see fromSpare). */
let spare: { readonly memoryMb: number; readonly owner: { pkg: string | null }; readonly prepared: Promise<PreparedIsolate> } | null = null;
let closing = false;
const cpuMeter = new CpuMeter<PackageIsolate>();

const writeFrame = createFrameWriter(socket);
/** Sends a frame: directly on fd 3 while the socket takes it (see createFrameWriter). */
function send(message: WorkerToHost): void {
  writeFrame(encodeFrame(message as WorkerToHost & Record<string, unknown>));
}

process.on('unhandledRejection', () => {
  // Never let a stray rejection end the worker: every call path reports its own failure.
});

readFrames(
  socket,
  (m) => onMessage(m as HostToWorker),
  () => process.exit(2),
);
socket.on('close', () => shutdown());
send({ t: 'ready' });
setImmediate(() => refillSpare(DEFAULT_SPARE_MB));

/**
 * The isolate hooks; `owner.pkg` is the package the isolate serves (set when a spare is taken), blamed
 * when isolated-vm loses control of it.
 */
function hooksFor(owner: { pkg: string | null }): IsolateHooks {
  return {
    onPost: (kind, callId, reqId, a, b, c) => onPost(callId, kind, reqId, a, b, c),
    onCatastrophic: (message) => {
      send({ t: 'fatal', pkg: owner.pkg, message: message.slice(0, 200) });
    },
  };
}

/**
 * A package's warm isolate made from the spare (an isolate with its bootstrap, prepared ahead: a first
 * call then only evaluates the bundle), when the spare has the package's heap limit; null otherwise.
 * Nothing ran in a spare before: it is as fresh as a new isolate. The next spare is prepared once this one
 * is loaded, so the preparation does not compete with the call.
 */
function fromSpare(pkg: string, src: PackageSource, filename: string, timeoutMs: number): Promise<PackageIsolate> | null {
  const taken = spare;
  if (taken === null || taken.memoryMb !== src.memoryMb) return null;
  spare = null;
  const loaded = taken.prepared.then((p) => {
    taken.owner.pkg = pkg;
    return p.load(src.source, filename, timeoutMs);
  });
  void loaded.then(
    () => refillSpare(src.memoryMb),
    () => refillSpare(src.memoryMb),
  );
  return loaded;
}

function refillSpare(memoryMb: number): void {
  if (spare !== null || closing) return;
  const owner: { pkg: string | null } = { pkg: null };
  const next = { memoryMb, owner, prepared: PackageIsolate.prepare(memoryMb, hooksFor(owner)) };
  spare = next;
  next.prepared.catch(() => {
    if (spare === next) spare = null;
  });
}

function onMessage(m: HostToWorker): void {
  switch (m.t) {
    case 'load':
      sources.set(m.pkg, { name: m.name, source: m.source, memoryMb: m.memoryMb, fresh: m.fresh });
      return;
    case 'unload':
      resetPackage(m.pkg, 'ISOLATE_RESET', 'the package was unloaded');
      sources.delete(m.pkg);
      packages.delete(m.pkg);
      return;
    case 'call':
      void startCall(m.call, m.pkg, m.tool, m.args, m.paths, m.limits);
      return;
    case 'res':
      void onHostResult(m.call, m.req, m.ok, m.json, m.bytes);
      return;
    case 'cancel':
      cancelCall(m.call);
      return;
    case 'extend': {
      // The host paused the call to ask the user (docs/consent.md): that time is not the call's.
      const rec = calls.get(m.call);
      if (rec !== undefined && Number.isFinite(m.ms)) rec.deadline += m.ms;
      return;
    }
    case 'ping':
      send({ t: 'pong', seq: m.seq });
      return;
    case 'shutdown':
      shutdown();
      return;
  }
}

async function acquireIsolate(pkg: string, limits: WorkerCallLimits): Promise<{ iso: PackageIsolate; fresh: boolean }> {
  const src = sources.get(pkg);
  if (src === undefined) throw new Error('package not loaded');
  let state = packages.get(pkg);
  if (state === undefined) {
    state = {};
    packages.set(pkg, state);
  }
  const filename = `tool:///${encodeURIComponent(src.name)}/index.js`;
  const create = () => PackageIsolate.create({ source: src.source, filename, memoryMb: src.memoryMb, timeoutMs: limits.cpuMs, hooks: hooksFor({ pkg }) });
  if (src.fresh) {
    // Per-call fresh state, served from a spare created ahead of time so it stays fast.
    const next = state.spare ?? create();
    state.spare = create();
    state.spare.catch(() => {
      if (state !== undefined) state.spare = undefined;
    });
    return { iso: await next, fresh: true };
  }
  let current = state.isolate;
  if (current !== undefined) {
    const iso = await current.catch(() => null);
    if (iso !== null && !iso.isDisposed) return { iso, fresh: false };
  }
  current = fromSpare(pkg, src, filename, limits.cpuMs) ?? create();
  state.isolate = current;
  try {
    const iso = await current;
    if (state.isolate === current) state.ready = iso;
    return { iso, fresh: false };
  } catch (e) {
    if (state.isolate === current) state.isolate = undefined;
    throw e;
  }
}

async function startCall(id: number, pkg: string, tool: string, args: string, paths: string, limits: WorkerCallLimits): Promise<void> {
  const rec: CallRecord = {
    id,
    pkg,
    iso: null,
    limits,
    settled: false,
    timers: new Set(),
    hostCalls: 0,
    fresh: false,
    held: null,
    cpuUsed: 0,
    deadline: performance.now() + limits.wallMs,
  };
  calls.set(id, rec);
  ensureSampler();
  let acquired: { iso: PackageIsolate; fresh: boolean };
  const cancelling = packages.get(pkg)?.cancelling;
  if (cancelling !== undefined) await cancelling;
  if (rec.settled) return;
  const warm = packages.get(pkg)?.ready;
  try {
    acquired = warm !== undefined && !warm.isDisposed ? { iso: warm, fresh: false } : await acquireIsolate(pkg, limits);
  } catch (e) {
    const failure = e instanceof EntryError ? e.failure : 'error';
    if (failure === 'memory') fail(rec, 'SANDBOX_MEMORY_LIMIT', 'the package exceeded its memory limit while loading');
    else if (failure === 'timeout') fail(rec, 'SANDBOX_CPU_LIMIT', 'the package exceeded its CPU limit while loading');
    else fail(rec, 'PACKAGE_LOAD_FAILED', 'the package bundle failed to load');
    return;
  }
  if (rec.settled) {
    if (acquired.fresh) acquired.iso.dispose();
    return;
  }
  rec.iso = acquired.iso;
  rec.fresh = acquired.fresh;
  const iso = acquired.iso;
  const quota: CallQuota = { hostCalls: limits.hostCalls, logBytes: limits.logBytes, outputBytes: limits.outputBytes };
  await runEntry(rec, iso, iso.dispatch(id, tool, args, paths, quota, remainingWall(rec)));
}

/**
 * The timeout of an entry: what is left of the call's wall-clock budget. isolated-vm measures it on the
 * isolate's own thread from the moment the entry starts running (time queued behind another entry of the
 * same isolate is not counted), and it fires as "Script execution timed out.": SANDBOX_TIMEOUT. CPU time
 * is not limited by it but by the sampler below, from the isolate's measured CPU time, so a loaded machine
 * stretches neither into the other.
 */
function remainingWall(rec: CallRecord): number {
  return Math.max(1, rec.deadline - performance.now());
}

/**
 * Awaits one entry of `rec` into `iso`, charges its CPU time to the call, and then releases the outcomes
 * the isolate posted during it. An entry that hit a limit fails the call with that limit's code.
 */
async function runEntry(rec: CallRecord, iso: PackageIsolate, entry: Promise<number>): Promise<void> {
  try {
    rec.cpuUsed += await entry;
  } catch (e) {
    if (!(e instanceof EntryError)) {
      failAndReset(rec, 'TOOL_THREW', 'the call could not be completed');
      return;
    }
    rec.cpuUsed += e.cpuMs;
    if (e.failure !== 'rejection') {
      onEntryFailure(rec, iso, e.failure);
      return;
    }
    // A promise rejected and never handled inside the isolate: like Node's default for a library, it is
    // reported (to the call's log) and ignored; it is neither the call's result nor a fault of the sandbox.
    if (!rec.settled) send({ t: 'log', call: rec.id, level: 'warning', message: `unhandled promise rejection ignored: ${e.message}`.slice(0, 400) });
  }
  releaseHeld(iso);
}

function onEntryFailure(rec: CallRecord, iso: PackageIsolate, failure: 'timeout' | 'memory' | 'disposed'): void {
  if (failure === 'disposed') {
    // Whoever disposed it (a limit of this worker, a reset) has already failed the call with its code.
    fail(rec, 'ISOLATE_RESET', 'the isolate was reset by another call of the same package');
    return;
  }
  if (failure === 'memory') fail(rec, 'SANDBOX_MEMORY_LIMIT', 'the call exceeded its memory limit');
  else fail(rec, 'SANDBOX_TIMEOUT', 'the call exceeded its wall-clock limit');
  resetPackage(rec.pkg, 'ISOLATE_RESET', 'the isolate was reset because another call of the same package hit a limit', iso);
}

/** The entry that was running has returned: the outcomes posted during it are final now. */
function releaseHeld(iso: PackageIsolate): void {
  for (const rec of calls.values()) {
    if (rec.iso !== iso || rec.held === null || rec.settled) continue;
    const outcome = rec.held;
    rec.held = null;
    if (!outcome.ok) {
      fail(rec, outcome.code, outcome.message);
    } else if (Buffer.byteLength(outcome.json, 'utf8') > rec.limits.outputBytes) {
      fail(rec, 'OUTPUT_TOO_LARGE', 'the result is larger than the output limit');
    } else {
      settle(rec);
      send({ t: 'ok', call: rec.id, json: outcome.json, cpuMs: rec.cpuUsed });
    }
  }
}

function onPost(callId: number, kind: string, reqId: number, a: string, b: string, c: string | ArrayBuffer): void {
  const rec = calls.get(callId);
  if (rec === undefined || rec.settled) return;
  switch (kind) {
    // The outcome is held until the entry running now returns (see releaseHeld).
    case 'ok':
      rec.held ??= { ok: true, json: a };
      return;
    case 'err':
      rec.held ??= { ok: false, code: TOOL_ERROR_CODES.has(a) ? a : 'TOOL_THREW', message: b.slice(0, 2000) };
      return;
    case 'req':
      onRequest(rec, reqId, a, b, c);
      return;
    case 'log': {
      const nul = b.indexOf('\u0000');
      const message = (nul < 0 ? b : b.slice(0, nul)).slice(0, 4096);
      const data = nul < 0 ? undefined : b.slice(nul + 1, nul + 1 + 4096);
      send({ t: 'log', call: callId, level: LOG_LEVELS.has(a) ? a : 'info', message, data });
      return;
    }
    case 'progress':
      send({ t: 'progress', call: callId, json: a.slice(0, 4096) });
      return;
  }
}

function onRequest(rec: CallRecord, reqId: number, op: string, argsJson: string, body: string | ArrayBuffer): void {
  // The bootstrap counts too; this second count holds even if the bootstrap were subverted.
  if (op === 'timer' ? rec.timers.size >= 1000 : ++rec.hostCalls > rec.limits.hostCalls) {
    void deliverError(rec, reqId, 'QUOTA_EXCEEDED', 'too many host calls in one tool call');
    return;
  }
  if (op === 'timer') {
    let ms = 0;
    let at = Date.now();
    try {
      const args = JSON.parse(argsJson) as { ms?: unknown; at?: unknown };
      ms = Number(args.ms) || 0;
      // When the tool set it (its thread may have waited for this one): at most a wall limit back.
      const setAt = Number(args.at);
      if (Number.isFinite(setAt)) at = Math.min(at, Math.max(at - rec.limits.wallMs, setAt));
    } catch {
      ms = 0;
    }
    const delay = Math.max(0, Math.min(Math.max(0, ms), rec.limits.wallMs) - (Date.now() - at));
    // A timer that cannot fire before the call's wall-clock limit is that limit: it ends the call with it.
    const wall = remainingWall(rec);
    const t = setTimeout(
      () => {
        rec.timers.delete(t);
        if (delay >= wall) failAndReset(rec, 'SANDBOX_TIMEOUT', 'the call exceeded its wall-clock limit');
        else void deliverResult(rec, reqId, true, '', undefined);
      },
      Math.min(delay, wall),
    );
    rec.timers.add(t);
    return;
  }
  // Bytes leave the isolate as a copied ArrayBuffer; they travel to the host as the frame's raw payload.
  send(typeof body === 'string' ? { t: 'req', call: rec.id, req: reqId, op, args: argsJson } : { t: 'req', call: rec.id, req: reqId, op, args: argsJson, body: new Uint8Array(body) });
}

async function onHostResult(callId: number, reqId: number, ok: boolean, json: string, payload: Uint8Array | undefined): Promise<void> {
  const rec = calls.get(callId);
  if (rec === undefined || rec.settled) return;
  const bytes = payload === undefined ? undefined : freshArrayBuffer(payload);
  await deliverResult(rec, reqId, ok, json, bytes);
}

async function deliverResult(rec: CallRecord, reqId: number, ok: boolean, json: string, bytes: ArrayBuffer | undefined): Promise<void> {
  const iso = rec.iso;
  if (rec.settled || rec.held !== null || iso === null || iso.isDisposed) return;
  // Past the deadline (the sampler checks it only periodically), nothing more runs for the call.
  if (performance.now() >= rec.deadline) {
    failAndReset(rec, 'SANDBOX_TIMEOUT', 'the call exceeded its wall-clock limit');
    return;
  }
  await runEntry(rec, iso, iso.deliver(rec.id, reqId, ok, json, bytes, remainingWall(rec)));
}

function deliverError(rec: CallRecord, reqId: number, code: string, message: string): Promise<void> {
  return deliverResult(rec, reqId, false, JSON.stringify({ code, message }), undefined);
}

function cancelCall(callId: number): void {
  const rec = calls.get(callId);
  if (rec === undefined || rec.settled) return;
  const iso = rec.iso;
  // The call is over for the host at once; in the isolate its signal fires and whatever it awaits fails.
  fail(rec, 'CANCELLED', 'the call was cancelled');
  if (iso === null || iso.isDisposed) return;
  // Its code is running or queued: the package's new calls wait for the grace period below rather than
  // queue behind (and be reset with) code that may ignore the signal.
  const state = packages.get(rec.pkg);
  let resume: () => void = () => undefined;
  if (iso.hasEntries(callId) && state !== undefined && state.ready === iso && state.cancelling === undefined) {
    state.cancelling = new Promise<void>((resolve) => (resume = resolve));
  }
  void runEntry(rec, iso, iso.abort(callId, 'the call was cancelled', 50));
  // Code still running for it after a grace period (a loop that ignores the signal) is stopped by
  // resetting the isolate; a call that is merely waiting has nothing left to stop.
  setTimeout(() => {
    if (!iso.isDisposed && iso.hasEntries(callId)) resetPackage(rec.pkg, 'ISOLATE_RESET', 'the isolate was reset to stop a cancelled call', iso);
    if (state !== undefined) state.cancelling = undefined;
    resume();
  }, CANCEL_GRACE_MS).unref();
}

function settle(rec: CallRecord): void {
  rec.settled = true;
  for (const t of rec.timers) clearTimeout(t);
  rec.timers.clear();
  calls.delete(rec.id);
  if (rec.fresh && rec.iso !== null) rec.iso.dispose();
}

function fail(rec: CallRecord, code: string, message: string): void {
  if (rec.settled) return;
  settle(rec);
  send({ t: 'err', call: rec.id, code, message });
}

/** Fails the call and disposes its isolate: an isolate that hit a limit is never reused. */
function failAndReset(rec: CallRecord, code: string, message: string): void {
  if (rec.settled) return;
  fail(rec, code, message);
  resetPackage(rec.pkg, 'ISOLATE_RESET', 'the isolate was reset because another call of the same package hit a limit', rec.iso);
}

function resetPackage(pkg: string, code: string, message: string, only: PackageIsolate | null = null): void {
  for (const other of [...calls.values()]) {
    if (other.pkg !== pkg || other.settled) continue;
    if (only !== null && other.iso !== only) continue;
    fail(other, code, message);
  }
  const state = packages.get(pkg);
  if (only !== null) {
    only.dispose();
    // Nothing keeps a disposed isolate reachable.
    if (state !== undefined && state.ready === only) {
      state.ready = undefined;
      state.isolate = undefined;
    }
    return;
  }
  if (state?.isolate !== undefined) void state.isolate.then((iso) => iso.dispose(), () => undefined);
  if (state !== undefined) {
    state.isolate = undefined;
    state.ready = undefined;
  }
}

/** Samples CPU time and resident memory, and checks wall-clock deadlines, while calls run. */
function ensureSampler(): void {
  if (sampler !== null) return;
  sampler = setInterval(() => {
    if (calls.size === 0) {
      if (sampler !== null) clearInterval(sampler);
      sampler = null;
      // Nothing keeps a disposed isolate reachable between bursts of calls.
      cpuMeter.sample([]);
      return;
    }
    const isolates = new Set<PackageIsolate>();
    for (const rec of calls.values()) if (rec.iso !== null && !rec.iso.isDisposed) isolates.add(rec.iso);
    cpuMeter.sample(isolates);
    const now = performance.now();
    for (const rec of [...calls.values()]) {
      if (rec.settled) continue;
      // The wall-clock limit of a call that is waiting (on the host, a timer, its isolate's creation): an
      // entry that runs is stopped at the same deadline by its own timeout. Checked here rather than by a
      // timer per call (arming and clearing one costs on every call); at most one period late.
      if (now >= rec.deadline) {
        failAndReset(rec, 'SANDBOX_TIMEOUT', 'the call exceeded its wall-clock limit');
        continue;
      }
      if (rec.iso === null) continue;
      // isolated-vm disposes an isolate past its heap limit at once, but a built-in that ignores the
      // termination keeps the entry from returning: the limit that fired is reported now.
      if (rec.iso.hitMemoryLimit()) {
        if (rec.iso.hasEntries(rec.id)) failAndReset(rec, 'SANDBOX_MEMORY_LIMIT', 'the call exceeded its memory limit');
        continue;
      }
      // Only the call whose entry is running is charged for the running time.
      if (rec.cpuUsed + cpuMeter.runningCpuMs(rec.iso, rec.id) > rec.limits.cpuMs + 50) {
        failAndReset(rec, 'SANDBOX_CPU_LIMIT', 'the call exceeded its CPU-time limit');
      }
    }
    if (process.memoryUsage.rss() > RSS_LIMIT_BYTES) disposeLargest();
  }, 20);
  sampler.unref();
}

/**
 * Disposes the isolate most likely to be growing: memory grows only while code runs, so a running isolate
 * (the one with the longest-running entry) is chosen first; the largest heap when none runs.
 */
function disposeLargest(): void {
  let worst: CallRecord | null = null;
  let worstScore = -1;
  let running = false;
  for (const rec of calls.values()) {
    if (rec.iso === null || rec.settled) continue;
    const now = rec.iso.running();
    if (now !== null && now.callId === rec.id) {
      if (!running || now.cpuMs > worstScore) {
        worst = rec;
        worstScore = now.cpuMs;
      }
      running = true;
      continue;
    }
    const heap = running ? null : rec.iso.heapBytes();
    if (heap !== null && heap > worstScore) {
      worst = rec;
      worstScore = heap;
    }
  }
  if (worst !== null) failAndReset(worst, 'SANDBOX_MEMORY_LIMIT', 'the call exceeded the worker memory limit');
}

function shutdown(): void {
  closing = true;
  const left = spare;
  spare = null;
  if (left !== null) void left.prepared.then((p) => p.dispose(), () => undefined);
  for (const rec of [...calls.values()]) fail(rec, 'SANDBOX_CLOSED', 'the sandbox is shutting down');
  for (const pkg of [...packages.keys()]) resetPackage(pkg, 'SANDBOX_CLOSED', 'the sandbox is shutting down');
  // Exiting right after isolate.dispose() can crash: let the disposals finish first.
  setTimeout(() => process.exit(0), 50);
}

