// @ts-check
/** ctx.fs: file access as host requests of the call; the host checks every path against the grant. */
import { ArrayBufferC, ObjectFreeze, PromiseReject, PromiseThen, ReflectApply, TypeErrorC, Uint8ArrayC } from './intrinsics.js';
import { hostRequest } from './calls.js';
import { bufOf, toBytes, utf8Encode } from './text.js';

/** @param {unknown} path @returns {string} */
function absPath(path) {
  if (typeof path !== 'string') throw new TypeErrorC('path must be a string');
  return path;
}

/** @param {unknown} options @returns {boolean} */
function recursive(options) {
  if (options === null || typeof options !== 'object') return false;
  return !!(/** @type {{ recursive?: unknown }} */ (options).recursive);
}

/** @param {unknown} encoding @returns {boolean} */
function isUtf8(encoding) {
  if (encoding === 'utf8' || encoding === 'utf-8') return true;
  if (encoding === null || typeof encoding !== 'object') return false;
  const name = /** @type {{ encoding?: unknown }} */ (encoding).encoding;
  return name === 'utf8' || name === 'utf-8';
}

/**
 * @param {number} callId
 * @returns {import('../../../types/tool-api.d.ts').WardenFs}
 */
export function makeFs(callId) {
  /** @type {(op: string, args: Record<string, unknown>, body?: ArrayBuffer) => Promise<{ value: any, bytes: ArrayBuffer | undefined }>} */
  const req = (op, args, body) => hostRequest(callId, op, args, body);
  /** @type {<T>(p: Promise<{ value: any, bytes: ArrayBuffer | undefined }>, fn: (r: { value: any, bytes: ArrayBuffer | undefined }) => T) => Promise<T>} */
  const then = (p, fn) => ReflectApply(PromiseThen, p, [fn]);
  /** @type {<A extends unknown[], R>(fn: (...a: A) => Promise<R>) => (...a: A) => Promise<R>} */
  const wrap = (fn) => function (...a) { try { return fn(...a); } catch (e) { return PromiseReject(e); } };
  return ObjectFreeze({
    readFile: /** @type {any} */ (wrap((path, encoding) => {
      const utf8 = isUtf8(encoding);
      return then(req('fs.readFile', { path: absPath(path), utf8 }), (r) => (utf8 ? r.value : new Uint8ArrayC(r.bytes instanceof ArrayBufferC ? r.bytes : new ArrayBufferC(0))));
    })),
    writeFile: wrap((path, data) => {
      const body = typeof data === 'string' ? bufOf(utf8Encode(data)) : bufOf(toBytes(data));
      return then(req('fs.writeFile', { path: absPath(path) }, body), () => undefined);
    }),
    readdir: wrap((path) => then(req('fs.readdir', { path: absPath(path) }), (r) => r.value)),
    stat: wrap((path) => then(req('fs.stat', { path: absPath(path) }), (r) => r.value)),
    mkdir: wrap((path, opts) => then(req('fs.mkdir', { path: absPath(path), recursive: recursive(opts) }), () => undefined)),
    rm: wrap((path, opts) => then(req('fs.rm', { path: absPath(path), recursive: recursive(opts) }), () => undefined)),
  });
}
