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
import type { ArgsFrame } from '../call-args.ts';
import { EntryError, PackageIsolate } from '../isolate.ts';
import type { CallQuota, IsolateHooks, PreparedIsolate } from '../isolate.ts';
import { readFrames } from '../protocol.ts';
import type { HostToWorker, WorkerCallLimits } from '../protocol.ts';
import { fail, remainingWall, resetPackage } from './calls.ts';
import { onHostResult, onPost, runEntry } from './entries.ts';
import { ensureSampler } from './limits.ts';
import { SPARE_REFILL_MS, spareRefillWait } from './spare.ts';
import { calls, packages, send, socket, sources } from './state.ts';
import type { CallRecord, PackageSource } from './state.ts';

const CANCEL_GRACE_MS = 200;
/** The heap limit of the first spare: the default of a package's memoryMb (runtime/types.ts). */
const DEFAULT_SPARE_MB = 64;
/** An isolate prepared ahead for the next package's first call (see fromSpare). */
let spare: { readonly memoryMb: number; readonly owner: { pkg: string | null }; readonly prepared: Promise<PreparedIsolate> } | null = null;
/** A spare was taken and its successor is not being prepared yet; `by`: performance.now() at the latest. */
let owed: { readonly memoryMb: number; readonly by: number; timer: NodeJS.Timeout | null } | null = null;
/** performance.now() when a call was last seen running (started, first entry done, or still running). */
let lastCallAt = 0;
let closing = false;

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
 * Nothing of a package ran in a spare before (only the bootstrap's own warm-up call): it is as fresh as a
 * new isolate. The next spare is owed from now on (see oweSpare).
 */
function fromSpare(pkg: string, src: PackageSource, filename: string, timeoutMs: number): Promise<PackageIsolate> | null {
  const taken = spare;
  if (taken === null || taken.memoryMb !== src.memoryMb) return null;
  spare = null;
  oweSpare(src.memoryMb);
  const loaded = taken.prepared.then((p) => {
    taken.owner.pkg = pkg;
    return p.load(src.source, filename, timeoutMs);
  });
  loaded.catch(() => undefined);
  return loaded;
}

/** The spare was taken: the next one is prepared when spare.ts says (once the worker is idle). */
function oweSpare(memoryMb: number): void {
  if (owed?.timer) clearTimeout(owed.timer);
  owed = { memoryMb, by: performance.now() + SPARE_REFILL_MS, timer: null };
  checkOwedSpare();
}

function checkOwedSpare(): void {
  if (owed === null) return;
  if (owed.timer !== null) clearTimeout(owed.timer);
  const now = performance.now();
  if (calls.size > 0) lastCallAt = now;
  const wait = spareRefillWait(now, lastCallAt, calls.size, owed.by);
  if (wait > 0) {
    owed.timer = setTimeout(checkOwedSpare, wait);
    owed.timer.unref();
    return;
  }
  const { memoryMb } = owed;
  owed = null;
  refillSpare(memoryMb);
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
      void startCall(m.call, m.pkg, m.tool, m.raw === undefined ? { text: m.args } : { text: m.args, raw: m.raw }, m.paths, m.limits);
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

async function startCall(id: number, pkg: string, tool: string, args: ArgsFrame, paths: string, limits: WorkerCallLimits): Promise<void> {
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
  lastCallAt = performance.now();
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
  lastCallAt = performance.now();
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



function shutdown(): void {
  closing = true;
  if (owed?.timer) clearTimeout(owed.timer);
  owed = null;
  const left = spare;
  spare = null;
  if (left !== null) void left.prepared.then((p) => p.dispose(), () => undefined);
  for (const rec of [...calls.values()]) fail(rec, 'SANDBOX_CLOSED', 'the sandbox is shutting down');
  for (const pkg of [...packages.keys()]) resetPackage(pkg, 'SANDBOX_CLOSED', 'the sandbox is shutting down');
  // Exiting right after isolate.dispose() can crash: let the disposals finish first.
  setTimeout(() => process.exit(0), 50);
}

