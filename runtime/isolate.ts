/**
 * The isolate boundary: the ONLY file that imports isolated-vm (a test enforces it).
 *
 * What crosses, and how:
 * - Into the isolate: primitive strings and numbers, and freshly allocated ArrayBuffers (never a slice of
 *   Node's pooled Buffer slab, which would expose other requests' bytes), always by copy.
 * - Out of the isolate: only through three Callbacks that the bootstrap keeps in a closure (a message, a
 *   synchronous helper, a call's outcome). Their arguments are checked to be primitives before use; nothing
 *   else of the isolate is read.
 * - No Reference, ExternalCopy or Callback object is ever placed where tool code can reach it: the entry
 *   points are References held here, on the worker side (isolated-vm README, section SECURITY).
 * - Every entry into the isolate carries a timeout; isolated-vm does not stop everything with it
 *   (measured: some built-ins), so the worker also samples CPU time, disposes the isolate at the wall limit,
 *   and the host kills the whole worker past that.
 *
 * Only what uses isolated-vm is here. Beside it, without isolated-vm: isolate-entry.ts (the hooks, quotas,
 * heap and timeout arithmetic, and how an entry's failure is classified), isolate-bootstrap.ts (the
 * bootstrap's factory source and its code cache), sync-ops.ts (the synchronous helpers the bootstrap calls).
 */
import { setFlagsFromString } from 'node:v8';
import ivm from 'isolated-vm';
import { CodeCache, bootstrapFactorySource } from './isolate-bootstrap.ts';
import type { ArgsFrame } from './call-args.ts';
import { EntryError, describeFailure as describe, entryFailureOf, entryTimeoutMs, heapInUse, isolateHeapMb } from './isolate-entry.ts';
import { EntryGate, entryBytes } from './entry-gate.ts';
import type { CallQuota, EntryFailure, IsolateHooks } from './isolate-entry.ts';
import { isArrayBuffer, runSyncOp } from './sync-ops.ts';

// The worker's modules (runtime/worker/) take these from here, with the isolate they belong to.
export { EntryError } from './isolate-entry.ts';
export type { CallQuota, EntryFailure, IsolateHooks } from './isolate-entry.ts';
export { freshArrayBuffer } from './sync-ops.ts';

const COPY = Object.freeze({ copy: true });
/** The call id of the warm-up entry (see PackageIsolate.prepare): the worker numbers calls from 1. */
const WARM_UP_CALL = 0;

/**
 * V8's code cache of the bootstrap, made by the first isolate this process prepares and used by the next
 * ones (evaluating the bootstrap from its source is most of a spare's preparation after the isolate
 * itself). V8 checks it against the source and its own version and flags, and compiles from the source
 * when it does not match; a rejected cache is dropped and made again.
 */
const bootstrapCache = new CodeCache<ivm.ExternalCopy<ArrayBuffer>>();

interface Entry {
  readonly callId: number;
  /** An abort entry: it runs the call's abort listeners, not its code. */
  readonly abort: boolean;
}

/**
 * One tool package's isolate: a context holding its bootstrap and its evaluated bundle.
 *
 * Entries run asynchronously (`Reference.apply`): isolated-vm runs the isolate on one of its own threads,
 * so the worker's main thread never blocks on tool code and the isolates of different packages run at the
 * same time. isolated-vm queues the entries of one isolate and runs them one at a time, in order (its
 * per-isolate task queue; runtime/entry-gate.ts decides when each is handed to it), which this class
 * mirrors in `#entries` to know which call's code is running and to charge CPU time to it exactly: the
 * isolate's CPU time between two completions is the later entry's.
 */
export class PackageIsolate {
  readonly #isolate: ivm.Isolate;
  readonly #context: ivm.Context;
  readonly #refs: { dispatch: ivm.Reference; deliver: ivm.Reference; abort: ivm.Reference };
  readonly #entries: Entry[] = [];
  /** When the next entry may be handed to isolated-vm (runtime/entry-gate.ts). */
  readonly #gate: EntryGate;
  #cpuMark = 0;
  /** Entries completed so far: the number of the running one. */
  #completed = 0;
  #disposedByUs = false;

  private constructor(isolate: ivm.Isolate, context: ivm.Context, entries: ivm.Reference, memoryMb: number) {
    // What a busy isolate may hold rooted between two times it is seen idle: a sixteenth of its limit.
    this.#gate = new EntryGate((memoryMb * 1024 * 1024) / 16, () => this.#idle());
    this.#isolate = isolate;
    this.#context = context;
    this.#refs = {
      dispatch: entries.getSync('dispatch', { reference: true }) as ivm.Reference,
      deliver: entries.getSync('deliver', { reference: true }) as ivm.Reference,
      abort: entries.getSync('abort', { reference: true }) as ivm.Reference,
    };
  }

  /**
   * Creates an isolate with the bootstrap and evaluates the package's bundle in it. The bundle is an ES
   * module with no imports; its evaluation runs under `timeoutMs`.
   */
  static async create(options: {
    source: string;
    filename: string;
    memoryMb: number;
    timeoutMs: number;
    hooks: IsolateHooks;
  }): Promise<PackageIsolate> {
    const prepared = await PackageIsolate.prepare(options.memoryMb, options.hooks);
    return prepared.load(options.source, options.filename, options.timeoutMs);
  }

  /**
   * The package-independent part of an isolate (most of a cold call's cost): the isolate, its context and
   * the bootstrap, before any tool code. A worker keeps one prepared ahead so that a package's first call
   * only evaluates its bundle. Nothing of another package ever ran in it: it is as fresh as a new one.
   *
   * It has also run one call of the bootstrap's built-in no-op tool (its `warmUp` entry): the first entry
   * into an isolate costs more than the next ones (V8 compiles the bootstrap's functions lazily, on their
   * first run), and that cost is paid here rather than by a package's first call. What the warm-up posts
   * goes nowhere: the hooks see only what is posted after it.
   */
  static async prepare(memoryMb: number, hooks: IsolateHooks): Promise<PreparedIsolate> {
    // V8 reads the flag when it makes an isolate's heap (isolated-vm itself resets it to 0 when it loads, so
    // that Node's own does not apply); isolates are made on this thread only, one at a time.
    const heap = isolateHeapMb(memoryMb);
    setFlagsFromString(`--max-semi-space-size=${heap.semiSpaceMb}`);
    const isolate = new ivm.Isolate({
      memoryLimit: heap.limitMb,
      onCatastrophicError: (message: string) => hooks.onCatastrophic(String(message)),
    });
    try {
      const context = await isolate.createContext();
      let warming = true;
      let warmedUp = false;
      const onPost = (kind: unknown, callId: unknown, reqId: unknown, a: unknown, b: unknown, c: unknown): void => {
        // Only primitives are accepted: anything else is dropped.
        if (typeof kind !== 'string' || typeof callId !== 'number' || typeof reqId !== 'number') return;
        // The warm-up's outcome (call 0: the worker numbers calls from 1) goes nowhere.
        if (callId === WARM_UP_CALL) {
          warmedUp ||= warming && kind === 'ok';
          return;
        }
        if (warming) return;
        const str = (v: unknown) => (typeof v === 'string' ? v : '');
        hooks.onPost(kind, callId, reqId, str(a), str(b), isArrayBuffer(c) ? c : str(c));
      };
      // `sync`: called on the isolate's thread, run on the worker's main thread while the isolate waits.
      const post = new ivm.Callback(onPost, { sync: true });
      const syncOp = new ivm.Callback((op: unknown, a: unknown, b: unknown) => runSyncOp(op, a, b), { sync: true });
      // A call's outcome, once per call: `ignored`, so the isolate does not wait for the worker's main thread
      // (a sync callback is a round trip between the two threads, ~80 µs here). isolated-vm queues it on the
      // main thread's task queue, in which the return of the entry that posted it comes after it (both are
      // tasks of that queue, run in order): the worker has the outcome when it learns the entry returned.
      const postOutcome = new ivm.Callback(onPost, { ignored: true });
      const cache = bootstrapCache.current();
      // isolated-vm sets cachedData (produced) or cachedDataRejected (consumed) on the script it returns.
      const script = (await isolate.compileScript(bootstrapFactorySource(), { filename: 'warden:bootstrap', ...(cache === null ? { produceCachedData: true } : { cachedData: cache }) })) as ivm.Script &
        ivm.CachedDataResult & { cachedDataRejected?: boolean };
      const bootstrapCached = bootstrapCache.settle(cache, script.cachedData, script.cachedDataRejected === true);
      // The factory function is reachable only through this Reference (nothing in the context names it).
      const factory = (await script.run(context, { reference: true, timeout: 1000 })) as ivm.Reference;
      script.release();
      const entries = (await factory.apply(undefined, [post, syncOp, postOutcome], { result: { reference: true }, timeout: 1000 })) as ivm.Reference;
      factory.release();
      const warmUp = entries.getSync('warmUp', { reference: true }) as ivm.Reference;
      try {
        await warmUp.apply(undefined, [WARM_UP_CALL], { timeout: 1000 });
      } finally {
        warmUp.release();
        warming = false;
      }
      return new PreparedIsolate(isolate, context, entries, memoryMb, warmedUp, bootstrapCached);
    } catch (e) {
      if (!isolate.isDisposed) isolate.dispose();
      throw e;
    }
  }

  /** Evaluates a package's bundle in a prepared isolate (see PreparedIsolate.load). */
  static async load(isolate: ivm.Isolate, context: ivm.Context, entries: ivm.Reference, memoryMb: number, source: string, filename: string, timeoutMs: number): Promise<PackageIsolate> {
    try {
      const self = new PackageIsolate(isolate, context, entries, memoryMb);
      let module: ivm.Module;
      try {
        module = await isolate.compileModule(source, { filename });
        if (module.dependencySpecifiers.length > 0) throw new Error('imports are not allowed in a tool bundle');
        await module.instantiate(context, () => {
          throw new Error('imports are not allowed in a tool bundle');
        });
      } catch (e) {
        if (isolate.isDisposed) throw new EntryError('memory', describe(e));
        throw e;
      }
      try {
        await module.evaluate({ timeout: timeoutMs });
        const register = entries.getSync('register', { reference: true }) as ivm.Reference;
        await register.apply(undefined, [module.namespace.derefInto()], { timeout: timeoutMs });
        register.release();
        entries.release();
      } catch (e) {
        const failure = self.#failureOf(e);
        // Anything else that escapes the module's evaluation is a load failure (a plain Error).
        throw failure === 'rejection' ? new Error(describe(e)) : new EntryError(failure, describe(e));
      }
      self.#cpuMark = self.#cpuNow();
      return self;
    } catch (e) {
      if (!isolate.isDisposed) isolate.dispose();
      throw e;
    }
  }

  get isDisposed(): boolean {
    return this.#isolate.isDisposed;
  }

  /**
   * The entry running (or next to run) in the isolate: its call, its sequence number, and the time it has
   * run as isolated-vm reports it, ms (exact CPU time for the stretches that ended, wall time for the
   * current one: see runtime/worker/cpu-meter.ts).
   */
  running(): { callId: number; seq: number; cpuMs: number } | null {
    const head = this.#entries[0];
    if (head === undefined || this.#isolate.isDisposed) return null;
    return { callId: head.callId, seq: this.#completed, cpuMs: Math.max(0, this.#cpuNow() - this.#cpuMark) };
  }

  /** isolated-vm disposed the isolate by itself: it passed its heap limit. */
  hitMemoryLimit(): boolean {
    return this.#isolate.isDisposed && !this.#disposedByUs;
  }

  /** True while entries of `callId` (other than its abort) are queued or running. */
  hasEntries(callId: number): boolean {
    return this.#entries.some((e) => e.callId === callId && !e.abort);
  }

  /** Heap in use, including external memory, in bytes; null while code runs (the query would wait for it). */
  heapBytes(): number | null {
    if (this.#isolate.isDisposed) return 0;
    if (this.#entries.length > 0) return null;
    try {
      return heapInUse(this.#isolate.getHeapStatisticsSync());
    } catch {
      return 0;
    }
  }

  /** Starts a call. Resolves with the CPU time (ms) its entry used; rejects with an EntryError. */
  dispatch(callId: number, tool: string, args: ArgsFrame, pathsJson: string, quota: CallQuota, timeoutMs: number): Promise<number> {
    const raw = args.raw === undefined ? '' : JSON.stringify(args.raw);
    return this.#enter(callId, this.#refs.dispatch, [callId, tool, args.text, raw, pathsJson, quota.hostCalls, quota.logBytes, quota.outputBytes], timeoutMs);
  }

  deliver(callId: number, reqId: number, ok: boolean, json: string, bytes: ArrayBuffer | undefined, timeoutMs: number): Promise<number> {
    return this.#enter(callId, this.#refs.deliver, [callId, reqId, ok, json, bytes], timeoutMs);
  }

  abort(callId: number, reason: string, timeoutMs: number): Promise<number> {
    return this.#enter(callId, this.#refs.abort, [callId, reason], timeoutMs, true);
  }

  async #enter(callId: number, ref: ivm.Reference, args: unknown[], timeoutMs: number, abort = false): Promise<number> {
    if (this.#isolate.isDisposed) throw new EntryError('disposed', 'isolate disposed');
    const entry: Entry = { callId, abort };
    this.#entries.push(entry);
    await this.#gate.admit(entryBytes(args));
    let error: unknown = null;
    try {
      // Disposed while this entry waited: by a limit of this worker, a reset, or isolated-vm (its heap limit).
      if (this.#isolate.isDisposed) throw new Error('isolate disposed');
      await ref.apply(undefined, args, { arguments: COPY, timeout: entryTimeoutMs(timeoutMs) });
    } catch (e) {
      error = e;
    }
    this.#gate.returned();
    // Entries of one isolate complete in the order they were queued.
    const at = this.#entries.indexOf(entry);
    if (at >= 0) this.#entries.splice(at, 1);
    const now = this.#cpuNow();
    const used = Math.max(0, now - this.#cpuMark);
    this.#cpuMark = now;
    this.#completed++;
    if (error === null) return used;
    const failure = this.#failureOf(error);
    if (failure === 'rejection') throw new EntryError('rejection', describe(error), used);
    // A limit was hit: the isolate is never reused.
    this.dispose();
    throw new EntryError(failure, describe(error), used);
  }

  /**
   * Resolves once the isolate has been seen holding no entry: isolated-vm advances its wall time only while
   * its thread holds the isolate (`Executor::Lock`, whose end closes the HandleScope runtime/entry-gate.ts
   * waits for), so the same wall time read across a turn of the event loop, or across a 1 ms wait while it
   * still runs, means no entry ran in between.
   */
  async #idle(): Promise<void> {
    for (let first = true; ; first = false) {
      try {
        if (this.#isolate.isDisposed) return;
        const before = this.#isolate.wallTime;
        await new Promise((resolve) => (first ? setImmediate(resolve) : setTimeout(resolve, 1)));
        if (this.#isolate.isDisposed || this.#isolate.wallTime === before) return;
      } catch {
        return; // disposed meanwhile
      }
    }
  }

  #failureOf(e: unknown): EntryFailure {
    return entryFailureOf(e, this.#disposedByUs, this.#isolate.isDisposed);
  }

  #cpuNow(): number {
    try {
      return this.#isolate.isDisposed ? this.#cpuMark : Number(this.#isolate.cpuTime) / 1e6;
    } catch {
      return this.#cpuMark;
    }
  }

  dispose(): void {
    if (this.#isolate.isDisposed) return;
    this.#disposedByUs = true;
    for (const ref of Object.values(this.#refs)) {
      try {
        ref.release();
      } catch {
        // released with the isolate
      }
    }
    try {
      this.#context.release();
    } catch {
      // already released with the isolate
    }
    try {
      this.#isolate.dispose();
    } catch {
      // already disposed
    }
  }
}

/** An isolate with its context and bootstrap, and no package yet (PackageIsolate.prepare). */
export class PreparedIsolate {
  readonly #isolate: ivm.Isolate;
  readonly #context: ivm.Context;
  readonly #entries: ivm.Reference;
  /** The heap limit it was made with, MiB: it serves only a package with the same limit. */
  readonly memoryMb: number;
  /** Its warm-up call ran to its outcome (see PackageIsolate.prepare). */
  readonly warmedUp: boolean;
  /** Its bootstrap was compiled from the process's code cache (runtime/isolate-bootstrap.ts). */
  readonly bootstrapCached: boolean;
  #used = false;

  constructor(isolate: ivm.Isolate, context: ivm.Context, entries: ivm.Reference, memoryMb: number, warmedUp: boolean, bootstrapCached: boolean) {
    this.#isolate = isolate;
    this.#context = context;
    this.#entries = entries;
    this.memoryMb = memoryMb;
    this.warmedUp = warmedUp;
    this.bootstrapCached = bootstrapCached;
  }

  /** Evaluates the package's bundle in it, once; it is then that package's isolate. */
  load(source: string, filename: string, timeoutMs: number): Promise<PackageIsolate> {
    if (this.#used || this.#isolate.isDisposed) return Promise.reject(new EntryError('disposed', 'prepared isolate already used'));
    this.#used = true;
    return PackageIsolate.load(this.#isolate, this.#context, this.#entries, this.memoryMb, source, filename, timeoutMs);
  }

  dispose(): void {
    this.#used = true;
    if (!this.#isolate.isDisposed) this.#isolate.dispose();
  }
}
