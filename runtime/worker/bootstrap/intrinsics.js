// @ts-check
/**
 * The first file of the isolate bootstrap: the three Callbacks, and every intrinsic the trusted path uses,
 * captured before any tool code runs.
 *
 * The bootstrap is these files, concatenated in the order runtime/worker/bootstrap-source.ts gives, and
 * evaluated as the body of a closure: their imports and exports exist for the type-checker and the linter
 * only, and are removed when the files are joined. Tool code never sees the Callbacks or the entry points:
 * they live only in the closure.
 *
 * Threats handled in the bootstrap:
 * - Tool code may patch any global or prototype after this runs, so every intrinsic used on the trusted
 *   path is captured here and called through Reflect.apply.
 * - Only primitive strings and numbers leave the isolate (a SharedArrayBuffer or a getter-laden object could
 *   change between the worker's check and its use); every value a tool supplies is read once and copied.
 * - Quotas on host calls, in-flight requests and log bytes are counted before a message is posted, so a
 *   flood never queues in the worker's memory.
 * - WebAssembly (its memory escapes the heap limit), SharedArrayBuffer and Atomics are removed.
 */

/**
 * Message to the worker: strings and numbers only; c may be bytes.
 * @typedef {(kind: string, callId: number, reqId: number, a?: string, b?: string, c?: string | ArrayBuffer) => void} Post
 */
/**
 * Synchronous helper run by the worker (URL parsing, UTF-8, random bytes, digests); returns a copy.
 * @typedef {(op: string, a: unknown, b: unknown) => any} SyncOp
 */

/* global $0, $1, $2 -- the closure's three parameters: the Callbacks */
/** @type {Post} */
export const post = /** @type {Post} */ ($0);
/** @type {SyncOp} */
export const syncOp = /** @type {SyncOp} */ ($1);
/**
 * A call's outcome ('ok' or 'err', once per call): posted like `post`, but the isolate does not wait for
 * the worker to take it (the worker takes it before the entry's return, which it queues behind it).
 * @type {Post}
 */
export const postOutcome = /** @type {Post} */ ($2);

/** @type {Record<string, any>} */
export const g = globalThis;
export const ReflectApply = Reflect.apply;
export const ObjectFreeze = Object.freeze;
export const ObjectDefineProperty = Object.defineProperty;
export const ObjectKeys = Object.keys;
export const ObjectPrototypeHasOwn = Object.prototype.hasOwnProperty;
export const JSONstringify = JSON.stringify;
export const JSONparse = JSON.parse;
export const StringC = String;
export const NumberC = Number;
export const MathFloor = Math.floor;
export const DateNow = Date.now;
export const ErrorC = Error;
export const TypeErrorC = TypeError;
export const RangeErrorC = RangeError;
export const PromiseC = Promise;
export const PromiseResolve = Promise.resolve.bind(Promise);
export const PromiseReject = Promise.reject.bind(Promise);
export const PromiseThen = Promise.prototype.then;
export const MapC = Map;
export const MapGet = Map.prototype.get;
export const MapSet = Map.prototype.set;
export const MapDelete = Map.prototype.delete;
export const MapForEach = Map.prototype.forEach;
export const ArrayIsArray = Array.isArray;
export const ArrayPush = Array.prototype.push;
export const ArrayJoin = Array.prototype.join;
export const Uint8ArrayC = Uint8Array;
export const ArrayBufferC = ArrayBuffer;
export const ArrayBufferIsView = ArrayBuffer.isView;
export const ArrayBufferSlice = ArrayBuffer.prototype.slice;
/** @param {string} name */
const arrayBufferGetter = (name) => /** @type {() => any} */ (/** @type {PropertyDescriptor} */ (Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, name)).get);
/** Throws on anything but an ArrayBuffer (a brand check, unlike instanceof). */
export const ArrayBufferByteLength = arrayBufferGetter('byteLength');
export const ArrayBufferResizable = arrayBufferGetter('resizable');
export const ArrayBufferDetached = arrayBufferGetter('detached');
export const StringFromCharCode = String.fromCharCode;
export const StringCharCodeAt = String.prototype.charCodeAt;
export const StringSlice = String.prototype.slice;
export const StringIndexOf = String.prototype.indexOf;
export const StringToLowerCase = String.prototype.toLowerCase;
export const StringToUpperCase = String.prototype.toUpperCase;
const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
/** @param {string} name */
const typedArrayGetter = (name) => /** @type {() => any} */ (/** @type {PropertyDescriptor} */ (Object.getOwnPropertyDescriptor(TypedArrayProto, name)).get);
export const TypedArrayBuffer = typedArrayGetter('buffer');
export const TypedArrayByteOffset = typedArrayGetter('byteOffset');
export const TypedArrayByteLength = typedArrayGetter('byteLength');
/** @type {(m: Map<any, any>, k: any) => any} */
export const mget = (m, k) => ReflectApply(MapGet, m, [k]);
/** @type {(m: Map<any, any>, k: any, v: any) => unknown} */
export const mset = (m, k, v) => ReflectApply(MapSet, m, [k, v]);
/** @type {(m: Map<any, any>, k: any) => unknown} */
export const mdel = (m, k) => ReflectApply(MapDelete, m, [k]);
/** @type {(s: string) => string} */
export const lower = (s) => ReflectApply(StringToLowerCase, s, []);

// WebAssembly.Memory is not counted by the heap limit; shared memory enables timing attacks.
delete g.WebAssembly;
delete g.SharedArrayBuffer;
delete g.Atomics;

export const MESSAGE_MAX = 2000;

/** A bounded string copy of any value; never throws. */
export function safeString(value) {
  try {
    const s = typeof value === 'string' ? value : StringC(value);
    return s.length > MESSAGE_MAX ? ReflectApply(StringSlice, s, [0, MESSAGE_MAX]) : s;
  } catch {
    return '<unprintable value>';
  }
}

export function errorMessage(e) {
  try {
    if (e !== null && typeof e === 'object') return safeString(e.message);
    return safeString(e);
  } catch {
    return '<unprintable error>';
  }
}

/**
 * @param {string} code
 * @param {string} message
 * @returns {Error & { code: string }}
 */
export function wardenError(code, message) {
  const e = /** @type {Error & { code: string }} */ (new ErrorC(message));
  e.code = code;
  return e;
}
