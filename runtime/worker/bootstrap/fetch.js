// @ts-check
/**
 * fetch, Headers and the Response object. Every value the tool supplies (the URL or a Request-like object's
 * url, each member of init, each header) is read exactly once and copied to a primitive before use: a
 * getter cannot show one value to a check and another to the request.
 */
import {
  ArrayBufferC, ArrayBufferSlice, ArrayIsArray, JSONparse, MapC, MapForEach, ObjectFreeze, ObjectKeys,
  PromiseReject, PromiseResolve, PromiseThen, ReflectApply, StringC, StringToUpperCase, TypeErrorC, Uint8ArrayC,
  lower, mdel, mget, mset,
} from './intrinsics.js';
import { hostRequest } from './calls.js';
import { bufOf, toBytes, utf8Decode, utf8Encode } from './text.js';
import { URL, URLSearchParams } from './url.js';

/** @typedef {import('../../../types/tool-api.d.ts').WardenHeaders} ApiHeaders */

/** @implements {ApiHeaders} */
export class Headers {
  /** @param {unknown} [init] */
  constructor(init) {
    /** @type {Map<string, string>} */
    this._h = new MapC();
    if (init == null) return;
    if (init instanceof Headers) { ReflectApply(MapForEach, init._h, [(/** @type {string} */ v, /** @type {string} */ k) => mset(this._h, k, v)]); return; }
    if (ArrayIsArray(init)) {
      for (let i = 0; i < init.length; i++) { const pair = init[i]; this.append(pair[0], pair[1]); }
      return;
    }
    const record = /** @type {Record<string, unknown>} */ (init);
    const keys = ObjectKeys(record);
    for (let i = 0; i < keys.length; i++) this.append(keys[i], record[keys[i]]);
  }
  /** @param {unknown} k @param {unknown} v */
  append(k, v) { const name = lower(StringC(k)); const value = StringC(v); const cur = mget(this._h, name); mset(this._h, name, cur === undefined ? value : cur + ', ' + value); }
  /** @param {unknown} k @param {unknown} v */
  set(k, v) { mset(this._h, lower(StringC(k)), StringC(v)); }
  /** @param {unknown} k @returns {string | null} */
  get(k) { const v = mget(this._h, lower(StringC(k))); return v === undefined ? null : v; }
  /** @param {unknown} k */
  has(k) { return mget(this._h, lower(StringC(k))) !== undefined; }
  /** @param {unknown} k */
  delete(k) { mdel(this._h, lower(StringC(k))); }
  /** @param {(value: string, name: string, self: Headers) => void} fn */
  forEach(fn) { ReflectApply(MapForEach, this._h, [(/** @type {string} */ v, /** @type {string} */ k) => fn(v, k, this)]); }
  entries() { return this._list()[Symbol.iterator](); }
  [Symbol.iterator]() { return this.entries(); }
  /** @returns {[string, string][]} */
  _list() { /** @type {[string, string][]} */ const out = []; ReflectApply(MapForEach, this._h, [(/** @type {string} */ v, /** @type {string} */ k) => { out[out.length] = [k, v]; }]); return out; }
}

/**
 * @param {{ status: number, statusText: string, url: string, redirected: boolean, headers: [string, string][] }} meta
 * @param {ArrayBuffer | undefined} buffer
 * @returns {import('../../../types/tool-api.d.ts').WardenResponse}
 */
function makeResponse(meta, buffer) {
  const bytes = buffer instanceof ArrayBufferC ? new Uint8ArrayC(buffer) : new Uint8ArrayC(0);
  const headers = new Headers(meta.headers);
  let used = false;
  const consume = () => { if (used) throw new TypeErrorC('body already used'); used = true; };
  const copy = () => ReflectApply(ArrayBufferSlice, bufOf(bytes), [0]);
  return ObjectFreeze({
    status: meta.status, statusText: meta.statusText, ok: meta.status >= 200 && meta.status < 300,
    url: meta.url, redirected: meta.redirected, headers,
    get bodyUsed() { return used; },
    arrayBuffer() { try { consume(); return PromiseResolve(copy()); } catch (e) { return PromiseReject(e); } },
    bytes() { try { consume(); return PromiseResolve(new Uint8ArrayC(copy())); } catch (e) { return PromiseReject(e); } },
    text() { try { consume(); return PromiseResolve(utf8Decode(bytes)); } catch (e) { return PromiseReject(e); } },
    json() { try { consume(); return PromiseResolve(JSONparse(utf8Decode(bytes))); } catch (e) { return PromiseReject(e); } },
  });
}

/**
 * The URL of a fetch: a URL's href, a Request-like object's `url` (read once), or the argument as a string.
 * @param {unknown} input
 * @returns {string}
 */
function requestUrl(input) {
  if (input instanceof URL) return StringC(input);
  if (input !== null && typeof input === 'object') {
    const url = /** @type {{ url?: unknown }} */ (input).url;
    if (typeof url === 'string') return url;
  }
  return StringC(input);
}

/** @param {unknown} body @returns {ArrayBuffer | undefined} */
function requestBody(body) {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return bufOf(utf8Encode(body));
  if (body instanceof URLSearchParams) return bufOf(utf8Encode(body.toString()));
  return bufOf(toBytes(body));
}

/**
 * The fetch of call `callId`.
 * @param {number} callId
 * @returns {import('../../../types/tool-api.d.ts').WardenFetch}
 */
export function makeFetch(callId) {
  return function fetch(input, init) {
    try {
      const url = requestUrl(input);
      const options = /** @type {Record<string, unknown>} */ (init == null ? {} : init);
      // Each member once, in a fixed order.
      const methodInit = options.method;
      const headersInit = options.headers;
      const bodyInit = options.body;
      const signal = /** @type {{ aborted?: unknown, reason?: unknown } | undefined} */ (options.signal);
      const method = methodInit === undefined ? 'GET' : ReflectApply(StringToUpperCase, StringC(methodInit), []);
      const headers = new Headers(headersInit)._list();
      const body = requestBody(bodyInit);
      if (signal && signal.aborted) return PromiseReject(signal.reason);
      const p = hostRequest(callId, 'fetch', { url, method, headers }, body);
      return ReflectApply(PromiseThen, p, [(/** @type {{ value: any, bytes: ArrayBuffer | undefined }} */ r) => makeResponse(r.value, r.bytes)]);
    } catch (e) {
      return PromiseReject(e);
    }
  };
}
