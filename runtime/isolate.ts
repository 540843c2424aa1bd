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
 * - Every entry into the isolate carries a CPU timeout; isolated-vm does not stop everything with it
 *   (measured: some built-ins, post-await code), so the worker also disposes the isolate at the wall limit
 *   and the host kills the whole worker past that.
 */
import ivm from 'isolated-vm';
import { createHash, randomFillSync } from 'node:crypto';
import { BOOTSTRAP_SOURCE } from './worker/bootstrap-source.ts';

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

/** Why an entry into the isolate failed. */
export type EntryFailure = 'timeout' | 'memory' | 'disposed' | 'error';

export class EntryError extends Error {
  readonly failure: EntryFailure;
  constructor(failure: EntryFailure, message: string) {
    super(message);
    this.failure = failure;
  }
}

/** One tool package's isolate: a context holding its bootstrap and its evaluated bundle. */
export class PackageIsolate {
  readonly #isolate: ivm.Isolate;
  readonly #context: ivm.Context;
  readonly #dispatch: ivm.Reference;
  readonly #deliver: ivm.Reference;
  readonly #abort: ivm.Reference;
  #disposedByUs = false;

  private constructor(isolate: ivm.Isolate, context: ivm.Context, entries: ivm.Reference) {
    this.#isolate = isolate;
    this.#context = context;
    this.#dispatch = entries.getSync('dispatch', { reference: true }) as ivm.Reference;
    this.#deliver = entries.getSync('deliver', { reference: true }) as ivm.Reference;
    this.#abort = entries.getSync('abort', { reference: true }) as ivm.Reference;
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
    const { hooks } = options;
    const isolate = new ivm.Isolate({
      memoryLimit: Math.max(8, options.memoryMb),
      onCatastrophicError: (message: string) => hooks.onCatastrophic(String(message)),
    });
    try {
      const context = await isolate.createContext();
      const post = new ivm.Callback(
        (kind: unknown, callId: unknown, reqId: unknown, a: unknown, b: unknown, c: unknown) => {
          // Only primitives are accepted: anything else is dropped.
          if (typeof kind !== 'string' || typeof callId !== 'number' || typeof reqId !== 'number') return;
          const str = (v: unknown) => (typeof v === 'string' ? v : '');
          hooks.onPost(kind, callId, reqId, str(a), str(b), isArrayBuffer(c) ? c : str(c));
        },
        { sync: true },
      );
      const syncOp = new ivm.Callback((op: unknown, a: unknown, b: unknown) => runSyncOp(op, a, b));
      const entries = (await context.evalClosure(BOOTSTRAP_SOURCE, [post, syncOp], {
        result: { reference: true },
        timeout: 1000,
        filename: 'warden:bootstrap',
      } as ivm.RunOptions & ivm.TransferOptions)) as unknown as ivm.Reference;
      const self = new PackageIsolate(isolate, context, entries);
      let module: ivm.Module;
      try {
        module = await isolate.compileModule(options.source, { filename: options.filename });
        if (module.dependencySpecifiers.length > 0) throw new Error('imports are not allowed in a tool bundle');
        await module.instantiate(context, () => {
          throw new Error('imports are not allowed in a tool bundle');
        });
      } catch (e) {
        throw new EntryError(isolate.isDisposed ? 'memory' : 'error', describe(e));
      }
      const started = performance.now();
      try {
        await module.evaluate({ timeout: options.timeoutMs });
        const register = entries.getSync('register', { reference: true }) as ivm.Reference;
        await register.apply(undefined, [module.namespace.derefInto()], { timeout: options.timeoutMs });
      } catch (e) {
        throw new EntryError(classify(isolate, false, performance.now() - started, options.timeoutMs), describe(e));
      }
      return self;
    } catch (e) {
      if (!isolate.isDisposed) isolate.dispose();
      throw e instanceof EntryError ? e : new EntryError('error', describe(e));
    }
  }

  get isDisposed(): boolean {
    return this.#isolate.isDisposed;
  }

  /** CPU time the isolate has used, in ms. */
  get cpuMs(): number {
    return this.#isolate.isDisposed ? 0 : Number(this.#isolate.cpuTime) / 1e6;
  }

  /** Heap in use, including external memory, in bytes. */
  heapBytes(): number {
    if (this.#isolate.isDisposed) return 0;
    try {
      const s = this.#isolate.getHeapStatisticsSync();
      return s.used_heap_size + s.externally_allocated_size;
    } catch {
      return 0;
    }
  }

  // Entries run synchronously on the worker's main thread (applySync): a call is ~75 µs cheaper than with
  // an async apply's thread hops. The worker blocks for at most the entry's CPU timeout; for the built-ins
  // that ignore it, the host's wall-clock watchdog kills the worker.
  dispatch(callId: number, tool: string, argsJson: string, pathsJson: string, quota: CallQuota, timeoutMs: number): void {
    return this.#enter(this.#dispatch, [callId, tool, argsJson, pathsJson, quota.hostCalls, quota.logBytes, quota.outputBytes], timeoutMs);
  }

  deliver(callId: number, reqId: number, ok: boolean, json: string, bytes: ArrayBuffer | undefined, timeoutMs: number): void {
    return this.#enter(this.#deliver, [callId, reqId, ok, json, bytes], timeoutMs);
  }

  abort(callId: number, reason: string, timeoutMs: number): void {
    return this.#enter(this.#abort, [callId, reason], timeoutMs);
  }

  #enter(ref: ivm.Reference, args: unknown[], timeoutMs: number): void {
    if (this.#isolate.isDisposed) throw new EntryError('disposed', 'isolate disposed');
    const timeout = Math.max(1, Math.ceil(timeoutMs));
    const started = performance.now();
    try {
      ref.applySync(undefined, args, { arguments: COPY, timeout });
    } catch (e) {
      const failure = classify(this.#isolate, this.#disposedByUs, performance.now() - started, timeout);
      // A limit was hit: the isolate is never reused.
      this.dispose();
      throw new EntryError(failure, describe(e));
    }
  }

  dispose(): void {
    if (this.#isolate.isDisposed) return;
    this.#disposedByUs = true;
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

function classify(isolate: ivm.Isolate, disposedByUs: boolean, elapsedMs: number, timeoutMs: number): EntryFailure {
  if (disposedByUs) return 'disposed';
  // isolated-vm disposes an isolate by itself only when it exceeds its memory limit.
  if (isolate.isDisposed) return 'memory';
  // The entry points never throw by themselves; a throw that took the whole budget is the timeout.
  return elapsedMs >= timeoutMs * 0.9 ? 'timeout' : 'error';
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
