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
import { createHash, randomFillSync } from 'node:crypto';
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
  /** The call the entry belongs to; PREPARING for the preparation of a fresh context (no call's). */
  readonly callId: number;
  /** An abort entry: it runs the call's abort listeners, not its code. */
  readonly abort: boolean;
}

const PREPARING = -1;
/** Fresh contexts kept prepared ahead of time (each ~1.3 ms of the isolate's thread to make, measured). */
const FRESH_POOL = 2;
/**
 * V8 collects released contexts lazily, and isolated-vm disposes an isolate whose heap passes its limit
 * even when garbage would free it (measured: a 32 MiB package whose bundle holds 50k objects failed ~1
 * call in 20 this way). An isolate serving fresh contexts is therefore retired after this many contexts,
 * or earlier when its heap (checked every other context) passes half its limit.
 */
const FRESH_CONTEXTS_PER_ISOLATE = 64;
const FRESH_HEAP_CHECK_EVERY = 2;

/** One context of the isolate: the bootstrap and the evaluated bundle, reached only through its entries. */
interface ToolContext {
  readonly context: ivm.Context;
  readonly module: ivm.Module;
  readonly refs: { dispatch: ivm.Reference; deliver: ivm.Reference; abort: ivm.Reference };
  /** Its call is over: released once that call's last entry has returned. */
  closed: boolean;
}

interface LoadOptions {
  source: string;
  filename: string;
  timeoutMs: number;
  memoryMb: number;
}

/**
 * One tool package's isolate, holding the package's context(s): each a bootstrap and an evaluated bundle.
 *
 * A warm package has one context for all its calls. A package with a fresh context per call gets, for each
 * call, a new context of its own in the same isolate (nothing a call leaves in its globals, the prototypes
 * of its built-ins or its module state reaches another call: those are per context in V8), taken from a few
 * prepared ahead of time and released when the call ends. Memory and CPU limits are the isolate's: an
 * isolate that hit one is disposed with all its contexts.
 *
 * Entries run asynchronously (`Reference.apply`): isolated-vm runs the isolate on one of its own threads,
 * so the worker's main thread never blocks on tool code and the isolates of different packages run at the
 * same time. isolated-vm queues the entries of one isolate and runs them one at a time, in order (its
 * per-isolate task queue), which this class mirrors in `#entries` to know which call's code is running and
 * to charge CPU time to it exactly: the isolate's CPU time between two completions is the later entry's.
 */
export class PackageIsolate {
  readonly #isolate: ivm.Isolate;
  readonly #callbacks: [ivm.Callback, ivm.Callback];
  readonly #load: LoadOptions;
  /** The warm context (a package without fresh contexts). */
  #warm: ToolContext | null = null;
  /** Fresh contexts: prepared ones, and those of running calls. */
  readonly #fresh: { pool: ToolContext[]; byCall: Map<number, ToolContext>; preparing: boolean; made: number; retired: boolean; heavy: boolean } | null;
  readonly #entries: Entry[] = [];
  #cpuMark = 0;
  /** Entries completed so far: the number of the running one. */
  #completed = 0;
  #disposedByUs = false;

  private constructor(isolate: ivm.Isolate, hooks: IsolateHooks, load: LoadOptions, fresh: boolean) {
    this.#isolate = isolate;
    this.#load = load;
    this.#fresh = fresh ? { pool: [], byCall: new Map(), preparing: false, made: 0, retired: false, heavy: false } : null;
    // `sync`: called on the isolate's thread, run on the worker's main thread while the isolate waits.
    const post = new ivm.Callback(
      (kind: unknown, callId: unknown, reqId: unknown, a: unknown, b: unknown, c: unknown) => {
        // Only primitives are accepted: anything else is dropped.
        if (typeof kind !== 'string' || typeof callId !== 'number' || typeof reqId !== 'number') return;
        const str = (v: unknown) => (typeof v === 'string' ? v : '');
        hooks.onPost(kind, callId, reqId, str(a), str(b), isArrayBuffer(c) ? c : str(c));
      },
      { sync: true },
    );
    const syncOp = new ivm.Callback((op: unknown, a: unknown, b: unknown) => runSyncOp(op, a, b), { sync: true });
    this.#callbacks = [post, syncOp];
  }

  /**
   * Creates an isolate with the bootstrap and evaluates the package's bundle in it (for `fresh`, in the
   * first prepared context). The bundle is an ES module with no imports; its evaluation runs under
   * `timeoutMs`, which also bounds the evaluation in every later fresh context.
   */
  static async create(options: {
    source: string;
    filename: string;
    memoryMb: number;
    timeoutMs: number;
    hooks: IsolateHooks;
    fresh?: boolean;
  }): Promise<PackageIsolate> {
    const { hooks } = options;
    const isolate = new ivm.Isolate({
      memoryLimit: Math.max(8, options.memoryMb),
      onCatastrophicError: (message: string) => hooks.onCatastrophic(String(message)),
    });
    try {
      const self = new PackageIsolate(isolate, hooks, options, options.fresh === true);
      const first = await self.#prepare();
      if (self.#fresh === null) self.#warm = first;
      else {
        self.#fresh.pool.push(first);
        // A bundle whose one context takes over an eighth of the heap limit cannot have several alive (nor
        // the garbage of past ones): its isolate serves one call and is retired.
        const s = await isolate.getHeapStatistics();
        self.#fresh.heavy = s.used_heap_size + s.externally_allocated_size > (Math.max(8, options.memoryMb) * 1024 * 1024) / 8;
      }
      self.#cpuMark = self.#cpuNow();
      self.#refill();
      return self;
    } catch (e) {
      if (!isolate.isDisposed) isolate.dispose();
      throw e;
    }
  }

  /** A new context: the bootstrap, then the bundle evaluated and registered. Throws as `create` does. */
  async #prepare(): Promise<ToolContext> {
    const isolate = this.#isolate;
    const context = await this.#track(() => isolate.createContext());
    const releaseAll = (...refs: { release(): void }[]) => {
      for (const r of refs) {
        try {
          r.release();
        } catch {
          // released with the isolate
        }
      }
    };
    // The bootstrap's source is the same in every context: V8's per-isolate compilation cache serves it.
    const entries = (await this.#track(() =>
      context.evalClosure(bootstrapSource(), this.#callbacks, {
        result: { reference: true },
        timeout: 1000,
        filename: 'warden:bootstrap',
      } as ivm.RunOptions & ivm.TransferOptions),
    )) as unknown as ivm.Reference;
    const refs = {
      dispatch: entries.getSync('dispatch', { reference: true }) as ivm.Reference,
      deliver: entries.getSync('deliver', { reference: true }) as ivm.Reference,
      abort: entries.getSync('abort', { reference: true }) as ivm.Reference,
    };
    let module: ivm.Module;
    try {
      module = await this.#track(() => isolate.compileModule(this.#load.source, { filename: this.#load.filename }));
      if (module.dependencySpecifiers.length > 0) throw new Error('imports are not allowed in a tool bundle');
      await this.#track(() =>
        module.instantiate(context, () => {
          throw new Error('imports are not allowed in a tool bundle');
        }),
      );
    } catch (e) {
      releaseAll(entries, ...Object.values(refs), context);
      if (isolate.isDisposed) throw new EntryError('memory', describe(e));
      throw e;
    }
    try {
      await this.#track(() => module.evaluate({ timeout: this.#load.timeoutMs }));
      const register = entries.getSync('register', { reference: true }) as ivm.Reference;
      await this.#track(() => register.apply(undefined, [module.namespace.derefInto()], { timeout: this.#load.timeoutMs }));
      releaseAll(register, entries);
    } catch (e) {
      releaseAll(entries, ...Object.values(refs), module, context);
      const failure = this.#failureOf(e);
      // Anything else that escapes the module's evaluation is a load failure (a plain Error).
      throw failure === 'rejection' ? new Error(describe(e)) : new EntryError(failure, describe(e));
    }
    return { context, module, refs, closed: false };
  }

  /** Runs a step of a context's preparation as an entry of no call: its CPU time is charged to none. */
  async #track<T>(step: () => Promise<T>): Promise<T> {
    if (this.#isolate.isDisposed) throw new EntryError('disposed', 'isolate disposed');
    const entry: Entry = { callId: PREPARING, abort: false };
    this.#entries.push(entry);
    try {
      return await step();
    } finally {
      this.#completeEntry(entry);
    }
  }

  /** Prepares fresh contexts, one at a time, up to the pool's size; after the entries queued now. */
  #refill(): void {
    const fresh = this.#fresh;
    if (fresh === null || fresh.retired || fresh.heavy || fresh.preparing || fresh.pool.length >= FRESH_POOL || this.#isolate.isDisposed) return;
    fresh.preparing = true;
    setImmediate(() => {
      void this.#heapCheck().then(() => this.#prepare()).then(
        (ctx) => {
          fresh.preparing = false;
          if (this.#isolate.isDisposed) return;
          fresh.pool.push(ctx);
          this.#refill();
        },
        () => {
          // Retired, or the bundle failed to load here (its top level is not deterministic, or hit a
          // limit): the isolate is not used again; the next call makes a new one.
          fresh.preparing = false;
          fresh.retired = true;
          this.retired();
        },
      );
    });
  }

  /**
   * For a package with fresh contexts: gives call `callId` a context of its own (a prepared one, or one
   * made now). Rejects as `create` does when the bundle fails to load in it. Resolves false, with nothing
   * done, when the isolate was retired (or disposed by the worker): the call needs a new isolate.
   */
  async openCall(callId: number): Promise<boolean> {
    const fresh = this.#fresh;
    if (fresh === null) return true;
    if (fresh.retired || this.#disposedByUs) return false;
    let ctx = fresh.pool.shift();
    if (ctx === undefined) {
      try {
        ctx = await this.#prepare();
      } catch (e) {
        if (this.#disposedByUs) return false;
        // An isolate where the bundle failed to load (a limit included) is not used again.
        this.dispose();
        throw e;
      }
    }
    if (this.#isolate.isDisposed) {
      if (this.#disposedByUs) return false;
      throw new EntryError('memory', 'isolate disposed');
    }
    fresh.byCall.set(callId, ctx);
    if (++fresh.made >= (fresh.heavy ? 1 : FRESH_CONTEXTS_PER_ISOLATE)) fresh.retired = true;
    this.#refill();
    return true;
  }

  /** Every other context, retires the isolate if its heap passed half its limit. */
  async #heapCheck(): Promise<void> {
    const fresh = this.#fresh;
    if (fresh === null || fresh.made % FRESH_HEAP_CHECK_EVERY !== 0) return;
    const s = await this.#track(() => this.#isolate.getHeapStatistics());
    if (s.used_heap_size + s.externally_allocated_size > (Math.max(8, this.#load.memoryMb) * 1024 * 1024) / 2) {
      fresh.retired = true;
      throw new Error('retired');
    }
  }

  /**
   * For a package with fresh contexts: true once the isolate serves no more calls (see
   * FRESH_CONTEXTS_PER_ISOLATE). It prepares no more contexts and is disposed once its running calls have
   * ended; the caller makes a new isolate for the next call.
   */
  retired(): boolean {
    const fresh = this.#fresh;
    if (fresh === null) return false;
    if (!fresh.retired && !this.#isolate.isDisposed) return false;
    if (fresh.byCall.size === 0) this.dispose();
    return true;
  }

  /** The call is over: its fresh context is released once its last entry has returned. */
  closeCall(callId: number): void {
    const ctx = this.#fresh?.byCall.get(callId);
    if (ctx === undefined) return;
    ctx.closed = true;
    if (!this.#entries.some((e) => e.callId === callId)) this.#releaseContext(callId, ctx);
    this.retired();
    this.#refill();
  }

  #releaseContext(callId: number, ctx: ToolContext): void {
    this.#fresh?.byCall.delete(callId);
    for (const r of [...Object.values(ctx.refs), ctx.module, ctx.context]) {
      try {
        r.release();
      } catch {
        // released with the isolate
      }
    }
  }

  /** The context the entries of `callId` run in. */
  #contextOf(callId: number): ToolContext | undefined {
    return this.#fresh === null ? (this.#warm ?? undefined) : this.#fresh.byCall.get(callId);
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
    return this.#enter(callId, 'dispatch', [callId, tool, argsJson, pathsJson, quota.hostCalls, quota.logBytes, quota.outputBytes], timeoutMs);
  }

  deliver(callId: number, reqId: number, ok: boolean, json: string, bytes: ArrayBuffer | undefined, timeoutMs: number): Promise<number> {
    return this.#enter(callId, 'deliver', [callId, reqId, ok, json, bytes], timeoutMs);
  }

  abort(callId: number, reason: string, timeoutMs: number): Promise<number> {
    return this.#enter(callId, 'abort', [callId, reason], timeoutMs, true);
  }

  async #enter(callId: number, which: 'dispatch' | 'deliver' | 'abort', args: unknown[], timeoutMs: number, abort = false): Promise<number> {
    if (this.#isolate.isDisposed) throw new EntryError('disposed', 'isolate disposed');
    const ctx = this.#contextOf(callId);
    // A fresh call's context is gone only after the call ended with nothing of it left running.
    if (ctx === undefined) {
      if (abort) return 0;
      throw new EntryError('disposed', 'no context for the call');
    }
    const entry: Entry = { callId, abort };
    this.#entries.push(entry);
    let error: unknown = null;
    try {
      await ctx.refs[which].apply(undefined, args, { arguments: COPY, timeout: Math.max(1, Math.ceil(timeoutMs)) });
    } catch (e) {
      error = e;
    }
    const used = this.#completeEntry(entry);
    if (ctx.closed && !this.#entries.some((e) => e.callId === callId)) {
      this.#releaseContext(callId, ctx);
      this.retired();
    }
    if (error === null) return used;
    const failure = this.#failureOf(error);
    if (failure === 'rejection') throw new EntryError('rejection', describe(error), used);
    // A limit was hit: the isolate is never reused.
    this.dispose();
    throw new EntryError(failure, describe(error), used);
  }

  /** Ends an entry's bookkeeping; returns the CPU time (ms) it used. */
  #completeEntry(entry: Entry): number {
    // Entries of one isolate complete in the order they were queued.
    const at = this.#entries.indexOf(entry);
    if (at >= 0) this.#entries.splice(at, 1);
    const now = this.#cpuNow();
    const used = Math.max(0, now - this.#cpuMark);
    this.#cpuMark = now;
    this.#completed++;
    return used;
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
    const contexts = [...(this.#warm === null ? [] : [this.#warm]), ...(this.#fresh?.pool ?? []), ...(this.#fresh?.byCall.values() ?? [])];
    for (const ctx of contexts) {
      for (const r of [...Object.values(ctx.refs), ctx.module, ctx.context]) {
        try {
          r.release();
        } catch {
          // released with the isolate
        }
      }
    }
    this.#warm = null;
    this.#fresh?.pool.splice(0);
    this.#fresh?.byCall.clear();
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
      return freshArrayBuffer(createHash(alg).update(new Uint8Array(b)).digest());
    }
    case 'utf8encode':
      return typeof a === 'string' ? freshArrayBuffer(Buffer.from(a, 'utf8')) : new ArrayBuffer(0);
    case 'utf8decode':
      return isArrayBuffer(a) ? Buffer.from(a).toString('utf8') : '';
    default:
      return '';
  }
}
