/**
 * The isolate boundary: the ONLY file that imports isolated-vm (a test enforces it).
 *
 * What crosses, and how:
 * - Into the isolate: primitive strings and numbers, and freshly allocated ArrayBuffers (never a slice of
 *   Node's pooled Buffer slab, which would expose other requests' bytes), always by copy.
 * - Out of the isolate: only through two Callbacks that the bootstrap keeps in a closure. Their arguments
 *   are checked to be primitives before use; nothing else of the isolate is read.
 * - No Reference, ExternalCopy or Callback object is ever placed where tool code can reach it: the entry
 *   points are References held here, on the worker side (isolated-vm README, section SECURITY).
 * - Every entry into the isolate carries a timeout; isolated-vm does not stop everything with it
 *   (measured: some built-ins), so the worker also samples CPU time, disposes the isolate at the wall limit,
 *   and the host kills the whole worker past that.
 */
import ivm from 'isolated-vm';
import { hash, randomFillSync } from 'node:crypto';
import { bootstrapSource } from './worker/bootstrap-source.ts';

export interface IsolateHooks {
  /** A message posted by the bootstrap: only primitives reach here. */
  onPost(kind: string, callId: number, reqId: number, a: string, b: string, c: string | ArrayBuffer): void;
  /** isolated-vm lost control of the isolate: the process must end. */
  onCatastrophic(message: string): void;
}

export interface CallQuota {
  hostCalls: number;
  logBytes: number;
  outputBytes: number;
}

const COPY = Object.freeze({ copy: true });
/** The call id of the warm-up entry (see PackageIsolate.prepare): the worker numbers calls from 1. */
const WARM_UP_CALL = 0;

/**
 * V8's code cache of the bootstrap, made by the first isolate this process prepares and used by the next
 * ones (evaluating the bootstrap from its source is most of a spare's preparation after the isolate
 * itself). V8 checks it against the source and its own version and flags, and compiles from the source
 * when it does not match; a rejected cache is dropped and made again.
 */
let bootstrapCache: ivm.ExternalCopy<ArrayBuffer> | null = null;

let factorySource: string | null = null;

/** The bootstrap as a function of its two Callbacks ($0, $1), opening on the bootstrap's first line. */
function bootstrapFactorySource(): string {
  factorySource ??= `(function ($0, $1) {${bootstrapSource()}\n})`;
  return factorySource;
}

/**
 * Why an entry into the isolate failed, as reported by what fired (never guessed from elapsed time):
 * - 'timeout': isolated-vm's own timeout of the entry stopped it ("Script execution timed out."); the
 *   worker sets it to what is left of the call's wall-clock budget;
 * - 'memory': isolated-vm disposed the isolate because it passed its heap limit;
 * - 'disposed': the worker disposed the isolate (one of its own limits fired, or a reset);
 * - 'rejection': the code returned but left a rejected promise nobody handled (isolated-vm reports it as
 *   the entry's error). The entry itself completed; this is not a failure of the call.
 */
export type EntryFailure = 'timeout' | 'memory' | 'disposed' | 'rejection';

export class EntryError extends Error {
  readonly failure: EntryFailure;
  /** CPU time the failed entry used, ms. */
  readonly cpuMs: number;
  constructor(failure: EntryFailure, message: string, cpuMs = 0) {
    super(message);
    this.failure = failure;
    this.cpuMs = cpuMs;
  }
}

/** isolated-vm's message for an entry stopped by its `timeout` (src/isolate/run_with_timeout.h). */
const TIMED_OUT = 'Script execution timed out.';

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
 * per-isolate task queue), which this class mirrors in `#entries` to know which call's code is running and
 * to charge CPU time to it exactly: the isolate's CPU time between two completions is the later entry's.
 */
export class PackageIsolate {
  readonly #isolate: ivm.Isolate;
  readonly #context: ivm.Context;
  readonly #refs: { dispatch: ivm.Reference; deliver: ivm.Reference; abort: ivm.Reference };
  readonly #entries: Entry[] = [];
  #cpuMark = 0;
  /** Entries completed so far: the number of the running one. */
  #completed = 0;
  #disposedByUs = false;

  private constructor(isolate: ivm.Isolate, context: ivm.Context, entries: ivm.Reference) {
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
    const isolate = new ivm.Isolate({
      memoryLimit: Math.max(8, memoryMb),
      onCatastrophicError: (message: string) => hooks.onCatastrophic(String(message)),
    });
    try {
      const context = await isolate.createContext();
      let warming = true;
      let warmedUp = false;
      // `sync`: called on the isolate's thread, run on the worker's main thread while the isolate waits.
      const post = new ivm.Callback(
        (kind: unknown, callId: unknown, reqId: unknown, a: unknown, b: unknown, c: unknown) => {
          // Only primitives are accepted: anything else is dropped.
          if (typeof kind !== 'string' || typeof callId !== 'number' || typeof reqId !== 'number') return;
          if (warming) {
            warmedUp ||= kind === 'ok' && callId === WARM_UP_CALL;
            return;
          }
          const str = (v: unknown) => (typeof v === 'string' ? v : '');
          hooks.onPost(kind, callId, reqId, str(a), str(b), isArrayBuffer(c) ? c : str(c));
        },
        { sync: true },
      );
      const syncOp = new ivm.Callback((op: unknown, a: unknown, b: unknown) => runSyncOp(op, a, b), { sync: true });
      const cache = bootstrapCache;
      // isolated-vm sets cachedData (produced) or cachedDataRejected (consumed) on the script it returns.
      const script = (await isolate.compileScript(bootstrapFactorySource(), { filename: 'warden:bootstrap', ...(cache === null ? { produceCachedData: true } : { cachedData: cache }) })) as ivm.Script &
        ivm.CachedDataResult & { cachedDataRejected?: boolean };
      if (cache === null && script.cachedData !== undefined) bootstrapCache = script.cachedData;
      if (cache !== null && script.cachedDataRejected === true && bootstrapCache === cache) bootstrapCache = null;
      const bootstrapCached = cache !== null && script.cachedDataRejected !== true;
      // The factory function is reachable only through this Reference (nothing in the context names it).
      const factory = (await script.run(context, { reference: true, timeout: 1000 })) as ivm.Reference;
      script.release();
      const entries = (await factory.apply(undefined, [post, syncOp], { result: { reference: true }, timeout: 1000 })) as ivm.Reference;
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
  static async load(isolate: ivm.Isolate, context: ivm.Context, entries: ivm.Reference, source: string, filename: string, timeoutMs: number): Promise<PackageIsolate> {
    try {
      const self = new PackageIsolate(isolate, context, entries);
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
      const s = this.#isolate.getHeapStatisticsSync();
      return s.used_heap_size + s.externally_allocated_size;
    } catch {
      return 0;
    }
  }

  /** Starts a call. Resolves with the CPU time (ms) its entry used; rejects with an EntryError. */
  dispatch(callId: number, tool: string, argsJson: string, pathsJson: string, quota: CallQuota, timeoutMs: number): Promise<number> {
    return this.#enter(callId, this.#refs.dispatch, [callId, tool, argsJson, pathsJson, quota.hostCalls, quota.logBytes, quota.outputBytes], timeoutMs);
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
    let error: unknown = null;
    try {
      await ref.apply(undefined, args, { arguments: COPY, timeout: Math.max(1, Math.ceil(timeoutMs)) });
    } catch (e) {
      error = e;
    }
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

  #failureOf(e: unknown): EntryFailure {
    if (this.#disposedByUs) return 'disposed';
    // isolated-vm disposes an isolate by itself only when it passes its memory limit.
    if (this.#isolate.isDisposed) return 'memory';
    if (e instanceof Error && e.message === TIMED_OUT) return 'timeout';
    return 'rejection';
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

function describe(e: unknown): string {
  // Host-side error text (it may carry host paths) is for the worker's diagnostics only.
  return e instanceof Error ? e.message.slice(0, 300) : 'unknown failure';
}

/**
 * True only for a plain ArrayBuffer (which arguments of a Callback receive as a copy). A SharedArrayBuffer
 * would stay live, shared with the isolate, so a check on its contents could be raced: refused.
 */
function isArrayBuffer(v: unknown): v is ArrayBuffer {
  return Object.prototype.toString.call(v) === '[object ArrayBuffer]';
}

/** A fresh, exactly-sized ArrayBuffer: never a view on Node's shared Buffer pool. */
export function freshArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

const URL_FIELDS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'] as const;

function urlFields(u: URL): string {
  const out: Record<string, string> = {};
  for (const f of URL_FIELDS) out[f] = u[f];
  return JSON.stringify(out);
}

const UTF8 = new TextEncoder();

const DIGESTS: Record<string, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/** The synchronous helpers the bootstrap may call. Arguments are untrusted: primitives only. */
function runSyncOp(op: unknown, a: unknown, b: unknown): string | ArrayBuffer {
  switch (op) {
    case 'url': {
      if (typeof a !== 'string' || typeof b !== 'string' || a.length > 65536 || b.length > 65536) return 'null';
      try {
        return urlFields(b === '' ? new URL(a) : new URL(a, b));
      } catch {
        return 'null';
      }
    }
    case 'urlSet': {
      if (typeof a !== 'string' || typeof b !== 'string' || a.length > 65536 || b.length > 65536) return 'null';
      try {
        const [field, value] = JSON.parse(b) as [string, string];
        const u = new URL(a);
        if (!(URL_FIELDS as readonly string[]).includes(field) || field === 'origin' || typeof value !== 'string') return 'null';
        (u as unknown as Record<string, string>)[field] = value;
        return urlFields(u);
      } catch {
        return 'null';
      }
    }
    case 'random': {
      const n = typeof a === 'number' && Number.isInteger(a) && a >= 0 && a <= 65536 ? a : 0;
      const out = new Uint8Array(n);
      randomFillSync(out);
      return out.buffer;
    }
    case 'digest': {
      const alg = typeof a === 'string' ? DIGESTS[a.toUpperCase()] : undefined;
      // Never throw into the isolate: a host Error carries a host stack.
      if (alg === undefined || !isArrayBuffer(b)) return '';
      return freshArrayBuffer(hash(alg, new Uint8Array(b), 'buffer'));
    }
    case 'utf8encode': {
      if (typeof a !== 'string') return new ArrayBuffer(0);
      // Node's encoder gives a Uint8Array over an ArrayBuffer of its own, exactly its size: no second copy.
      const bytes = UTF8.encode(a);
      return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : freshArrayBuffer(bytes);
    }
    case 'utf8decode':
      return isArrayBuffer(a) ? Buffer.from(a).toString('utf8') : '';
    default:
      return '';
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
  /** Its bootstrap was compiled from the process's code cache (see bootstrapCache). */
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
    return PackageIsolate.load(this.#isolate, this.#context, this.#entries, source, filename, timeoutMs);
  }

  dispose(): void {
    this.#used = true;
    if (!this.#isolate.isDisposed) this.#isolate.dispose();
  }
}
