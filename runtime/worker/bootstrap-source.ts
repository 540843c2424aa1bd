/**
 * The JavaScript that runs first in every tool context, before any tool code. It is a closure over two
 * isolated-vm Callbacks, which arrive in the isolate as plain functions:
 *   post(kind, callId, reqId, a, b, c) message to the worker (strings and numbers; c may be bytes)
 *   syncOp(op, a, b)                 synchronous helper (URL parsing, UTF-8, random bytes, digests); returns a copy
 * and it returns the entry points the worker calls (dispatch, deliver, abort, register). Tool code never
 * sees the Callbacks or the entry points: they live only in this closure.
 *
 * Threats handled here:
 * - Tool code may patch any global or prototype after this runs, so every intrinsic used on the trusted
 *   path is captured first and called through Reflect.apply.
 * - Only primitive strings and numbers leave the isolate (a SharedArrayBuffer or a getter-laden object could
 *   change between the worker's check and its use).
 * - Quotas on host calls, in-flight requests and log bytes are counted here, before a message is posted,
 *   so a flood never queues in the worker's memory.
 * - WebAssembly (its memory escapes the heap limit), SharedArrayBuffer and Atomics are removed.
 */
export const BOOTSTRAP_SOURCE = String.raw`
'use strict';
const post = $0;
const syncOp = $1;
const g = globalThis;
const ReflectApply = Reflect.apply;
const ObjectFreeze = Object.freeze;
const ObjectDefineProperty = Object.defineProperty;
const ObjectKeys = Object.keys;
const ObjectPrototypeHasOwn = Object.prototype.hasOwnProperty;
const JSONstringify = JSON.stringify;
const JSONparse = JSON.parse;
const StringC = String;
const NumberC = Number;
const MathFloor = Math.floor;
const MathMin = Math.min;
const ErrorC = Error;
const TypeErrorC = TypeError;
const RangeErrorC = RangeError;
const PromiseC = Promise;
const PromiseResolve = Promise.resolve.bind(Promise);
const PromiseReject = Promise.reject.bind(Promise);
const PromiseThen = Promise.prototype.then;
const MapC = Map;
const MapGet = Map.prototype.get;
const MapSet = Map.prototype.set;
const MapDelete = Map.prototype.delete;
const MapForEach = Map.prototype.forEach;
const ArrayIsArray = Array.isArray;
const ArrayPush = Array.prototype.push;
const ArrayJoin = Array.prototype.join;
const Uint8ArrayC = Uint8Array;
const ArrayBufferC = ArrayBuffer;
const ArrayBufferIsView = ArrayBuffer.isView;
const ArrayBufferSlice = ArrayBuffer.prototype.slice;
const StringFromCharCode = String.fromCharCode;
const StringCharCodeAt = String.prototype.charCodeAt;
const StringSlice = String.prototype.slice;
const StringToLowerCase = String.prototype.toLowerCase;
const FunctionC = Function;
const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype);
const TypedArrayBuffer = Object.getOwnPropertyDescriptor(TypedArrayProto, 'buffer').get;
const TypedArrayByteOffset = Object.getOwnPropertyDescriptor(TypedArrayProto, 'byteOffset').get;
const TypedArrayByteLength = Object.getOwnPropertyDescriptor(TypedArrayProto, 'byteLength').get;
const mget = (m, k) => ReflectApply(MapGet, m, [k]);
const mset = (m, k, v) => ReflectApply(MapSet, m, [k, v]);
const mdel = (m, k) => ReflectApply(MapDelete, m, [k]);

// WebAssembly.Memory is not counted by the heap limit; shared memory enables timing attacks.
delete g.WebAssembly;
delete g.SharedArrayBuffer;
delete g.Atomics;

const MESSAGE_MAX = 2000;
let toolModule = null;
let nextReq = 1;
let currentCall = 0;
const calls = new MapC();
const pending = new MapC();

function safeString(value) {
  try {
    const s = typeof value === 'string' ? value : StringC(value);
    return s.length > MESSAGE_MAX ? ReflectApply(StringSlice, s, [0, MESSAGE_MAX]) : s;
  } catch {
    return '<unprintable value>';
  }
}

function errorMessage(e) {
  try {
    if (e !== null && typeof e === 'object') return safeString(e.message);
    return safeString(e);
  } catch {
    return '<unprintable error>';
  }
}

function wardenError(code, message) {
  const e = new ErrorC(message);
  e.code = code;
  return e;
}

// ---- bytes: they leave the isolate as freshly copied ArrayBuffers (never a view, never shared) ----
const bufOf = (u8) => ReflectApply(TypedArrayBuffer, u8, []);
function toBytes(data) {
  if (data instanceof ArrayBufferC) return new Uint8ArrayC(ReflectApply(ArrayBufferSlice, data, [0]));
  if (ArrayBufferIsView(data)) {
    const buf = ReflectApply(TypedArrayBuffer, data, []);
    const off = ReflectApply(TypedArrayByteOffset, data, []);
    const len = ReflectApply(TypedArrayByteLength, data, []);
    return new Uint8ArrayC(ReflectApply(ArrayBufferSlice, buf, [off, off + len]));
  }
  throw new TypeErrorC('expected an ArrayBuffer or a typed array');
}
// Long strings are converted by the worker (native code, one copy each way); short ones here.
const NATIVE_THRESHOLD = 64;
function utf8Encode(str) {
  str = StringC(str);
  if (str.length > NATIVE_THRESHOLD) return new Uint8ArrayC(syncOp('utf8encode', str, ''));
  const out = [];
  for (let i = 0; i < str.length; i++) {
    let c = ReflectApply(StringCharCodeAt, str, [i]);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
      const d = ReflectApply(StringCharCodeAt, str, [i + 1]);
      if (d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
      else c = 0xfffd;
    } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out[out.length] = c;
    else if (c < 0x800) { out[out.length] = 0xc0 | (c >> 6); out[out.length] = 0x80 | (c & 63); }
    else if (c < 0x10000) { out[out.length] = 0xe0 | (c >> 12); out[out.length] = 0x80 | ((c >> 6) & 63); out[out.length] = 0x80 | (c & 63); }
    else { out[out.length] = 0xf0 | (c >> 18); out[out.length] = 0x80 | ((c >> 12) & 63); out[out.length] = 0x80 | ((c >> 6) & 63); out[out.length] = 0x80 | (c & 63); }
  }
  return new Uint8ArrayC(out);
}
function utf8Decode(bytes) {
  if (bytes.length > NATIVE_THRESHOLD) return syncOp('utf8decode', bufOf(toBytes(bytes)), '');
  const parts = [];
  let s = '';
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i++];
    let c;
    if (b < 0x80) c = b;
    else if (b >= 0xc2 && b < 0xe0 && i < n && (bytes[i] & 0xc0) === 0x80) c = ((b & 31) << 6) | (bytes[i++] & 63);
    else if (b >= 0xe0 && b < 0xf0 && i + 1 < n && (bytes[i] & 0xc0) === 0x80 && (bytes[i + 1] & 0xc0) === 0x80) {
      c = ((b & 15) << 12) | ((bytes[i] & 63) << 6) | (bytes[i + 1] & 63); i += 2;
      if (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)) c = 0xfffd;
    } else if (b >= 0xf0 && b < 0xf5 && i + 2 < n && (bytes[i] & 0xc0) === 0x80 && (bytes[i + 1] & 0xc0) === 0x80 && (bytes[i + 2] & 0xc0) === 0x80) {
      c = ((b & 7) << 18) | ((bytes[i] & 63) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63); i += 3;
      if (c < 0x10000 || c > 0x10ffff) c = 0xfffd;
    } else c = 0xfffd;
    if (c >= 0x10000) { c -= 0x10000; s += StringFromCharCode(0xd800 + (c >> 10), 0xdc00 + (c & 1023)); }
    else s += StringFromCharCode(c);
    if (s.length > 8192) { ReflectApply(ArrayPush, parts, [s]); s = ''; }
  }
  ReflectApply(ArrayPush, parts, [s]);
  return ReflectApply(ArrayJoin, parts, ['']);
}

class TextEncoder {
  get encoding() { return 'utf-8'; }
  encode(input = '') { return utf8Encode(input); }
}
class TextDecoder {
  constructor(label = 'utf-8') {
    const l = ReflectApply(StringToLowerCase, StringC(label), []);
    if (l !== 'utf-8' && l !== 'utf8') throw new RangeErrorC('only utf-8 is supported');
  }
  get encoding() { return 'utf-8'; }
  decode(input) { return input === undefined ? '' : utf8Decode(toBytes(input)); }
}

// ---- per-call state ----
class WardenAbortSignal {
  constructor() { this.aborted = false; this.reason = undefined; this.onabort = null; this._l = []; }
  addEventListener(type, fn) { if (type === 'abort' && typeof fn === 'function') this._l[this._l.length] = fn; }
  removeEventListener(type, fn) { const l = this._l; for (let i = 0; i < l.length; i++) if (l[i] === fn) l[i] = null; }
  throwIfAborted() { if (this.aborted) throw this.reason; }
  _fire(reason) {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const fns = this._l;
    if (typeof this.onabort === 'function') try { this.onabort({ type: 'abort' }); } catch {}
    for (let i = 0; i < fns.length; i++) if (fns[i]) try { fns[i]({ type: 'abort' }); } catch {}
  }
}

function requireCall(callId) {
  const call = mget(calls, callId);
  if (call === undefined) throw wardenError('CANCELLED', 'the tool call has ended');
  return call;
}

const MAX_TIMERS = 1000;
function hostRequest(callId, op, args, body) {
  const call = requireCall(callId);
  if (call.signal.aborted) return PromiseReject(call.signal.reason);
  if (op === 'timer') {
    // Timers are quota'd by how many are pending at once, and refused synchronously past it.
    if (call.timers >= MAX_TIMERS) throw wardenError('QUOTA_EXCEEDED', 'too many pending timers in one tool call');
    call.timers++;
  } else {
    if (++call.hostCalls > call.quota.hostCalls) {
      return PromiseReject(wardenError('QUOTA_EXCEEDED', 'too many host calls in one tool call'));
    }
    if (call.inflight >= 64) {
      call.hostCalls--;
      return PromiseReject(wardenError('QUOTA_EXCEEDED', 'too many host calls in flight at once'));
    }
    call.inflight++;
  }
  const id = nextReq++;
  return new PromiseC((resolve, reject) => {
    mset(pending, id, { resolve, reject, callId, timer: op === 'timer' });
    post('req', callId, id, op, JSONstringify(args), body === undefined ? '' : body);
  });
}

function deliver(callId, reqId, ok, json, bytes) {
  currentCall = callId;
  const p = mget(pending, reqId);
  if (p === undefined) return;
  mdel(pending, reqId);
  const call = mget(calls, callId);
  if (call !== undefined) { if (p.timer) call.timers--; else call.inflight--; }
  if (ok) {
    let value;
    try { value = json === '' ? undefined : JSONparse(json); } catch { value = undefined; }
    p.resolve({ value, bytes });
  } else {
    let err;
    try { err = JSONparse(json); } catch { err = { code: 'CAPABILITY_FAILED', message: 'host call failed' }; }
    p.reject(wardenError(safeString(err.code), safeString(err.message)));
  }
}

function log(callId, level, message, data) {
  const call = mget(calls, callId);
  if (call === undefined) return;
  let text = safeString(message);
  let extra = '';
  if (data !== undefined) { try { extra = safeString(JSONstringify(data)); } catch { extra = ''; } }
  const size = text.length + extra.length;
  if (call.logBytes + size > call.quota.logBytes) {
    if (!call.logCapped) { call.logCapped = true; post('log', callId, 0, 'warn', 'log quota reached; further log lines dropped'); }
    return;
  }
  call.logBytes += size;
  post('log', callId, 0, level === 'debug' || level === 'warn' || level === 'error' ? level : 'info', text + (extra ? '\u0000' + extra : ''));
}

// ---- fetch ----
class Headers {
  constructor(init) {
    this._h = new MapC();
    if (init == null) return;
    if (init instanceof Headers) { ReflectApply(MapForEach, init._h, [(v, k) => mset(this._h, k, v)]); return; }
    if (ArrayIsArray(init)) { for (let i = 0; i < init.length; i++) this.append(init[i][0], init[i][1]); return; }
    const keys = ObjectKeys(init);
    for (let i = 0; i < keys.length; i++) this.append(keys[i], init[keys[i]]);
  }
  append(k, v) { k = ReflectApply(StringToLowerCase, StringC(k), []); const cur = mget(this._h, k); mset(this._h, k, cur === undefined ? StringC(v) : cur + ', ' + StringC(v)); }
  set(k, v) { mset(this._h, ReflectApply(StringToLowerCase, StringC(k), []), StringC(v)); }
  get(k) { const v = mget(this._h, ReflectApply(StringToLowerCase, StringC(k), [])); return v === undefined ? null : v; }
  has(k) { return mget(this._h, ReflectApply(StringToLowerCase, StringC(k), [])) !== undefined; }
  delete(k) { mdel(this._h, ReflectApply(StringToLowerCase, StringC(k), [])); }
  forEach(fn) { ReflectApply(MapForEach, this._h, [(v, k) => fn(v, k, this)]); }
  entries() { const out = []; ReflectApply(MapForEach, this._h, [(v, k) => { out[out.length] = [k, v]; }]); return out[Symbol.iterator](); }
  [Symbol.iterator]() { return this.entries(); }
  _list() { const out = []; ReflectApply(MapForEach, this._h, [(v, k) => { out[out.length] = [k, v]; }]); return out; }
}

function makeResponse(meta, buffer) {
  const bytes = buffer instanceof ArrayBufferC ? new Uint8ArrayC(buffer) : new Uint8ArrayC(0);
  const headers = new Headers(meta.headers);
  let used = false;
  const consume = () => { if (used) throw new TypeErrorC('body already used'); used = true; };
  return ObjectFreeze({
    status: meta.status, statusText: meta.statusText, ok: meta.status >= 200 && meta.status < 300,
    url: meta.url, redirected: meta.redirected, headers,
    get bodyUsed() { return used; },
    arrayBuffer() { try { consume(); return PromiseResolve(ReflectApply(ArrayBufferSlice, bytes.buffer, [0])); } catch (e) { return PromiseReject(e); } },
    bytes() { try { consume(); return PromiseResolve(new Uint8ArrayC(ReflectApply(ArrayBufferSlice, bytes.buffer, [0]))); } catch (e) { return PromiseReject(e); } },
    text() { try { consume(); return PromiseResolve(utf8Decode(bytes)); } catch (e) { return PromiseReject(e); } },
    json() { try { consume(); return PromiseResolve(JSONparse(utf8Decode(bytes))); } catch (e) { return PromiseReject(e); } },
  });
}

function makeFetch(callId) {
  return function fetch(input, init) {
    try {
      init = init == null ? {} : init;
      const url = input instanceof URL ? input.href : (input !== null && typeof input === 'object' && typeof input.url === 'string') ? input.url : StringC(input);
      const method = init.method === undefined ? 'GET' : ReflectApply(StringToLowerCase, StringC(init.method), []).toUpperCase();
      const headers = new Headers(init.headers)._list();
      let body;
      if (init.body !== undefined && init.body !== null) {
        if (typeof init.body === 'string') body = bufOf(utf8Encode(init.body));
        else if (init.body instanceof URLSearchParams) body = bufOf(utf8Encode(init.body.toString()));
        else body = bufOf(toBytes(init.body));
      }
      const signal = init.signal;
      if (signal && signal.aborted) return PromiseReject(signal.reason);
      const p = hostRequest(callId, 'fetch', { url, method, headers }, body);
      return ReflectApply(PromiseThen, p, [(r) => makeResponse(r.value, r.bytes)]);
    } catch (e) {
      return PromiseReject(e);
    }
  };
}

function absPath(path) {
  if (typeof path !== 'string') throw new TypeErrorC('path must be a string');
  return path;
}

function makeFs(callId) {
  const req = (op, args, body) => hostRequest(callId, op, args, body);
  const then = (p, fn) => ReflectApply(PromiseThen, p, [fn]);
  const wrap = (fn) => function (...a) { try { return fn(...a); } catch (e) { return PromiseReject(e); } };
  return ObjectFreeze({
    readFile: wrap((path, encoding) => {
      const utf8 = encoding === 'utf8' || encoding === 'utf-8' || (encoding && (encoding.encoding === 'utf8' || encoding.encoding === 'utf-8'));
      return then(req('fs.readFile', { path: absPath(path), utf8: !!utf8 }), (r) => (utf8 ? r.value : new Uint8ArrayC(r.bytes instanceof ArrayBufferC ? r.bytes : new ArrayBufferC(0))));
    }),
    writeFile: wrap((path, data) => {
      const body = typeof data === 'string' ? bufOf(utf8Encode(data)) : bufOf(toBytes(data));
      return then(req('fs.writeFile', { path: absPath(path) }, body), () => undefined);
    }),
    readdir: wrap((path) => then(req('fs.readdir', { path: absPath(path) }), (r) => r.value)),
    stat: wrap((path) => then(req('fs.stat', { path: absPath(path) }), (r) => r.value)),
    mkdir: wrap((path, opts) => then(req('fs.mkdir', { path: absPath(path), recursive: !!(opts && opts.recursive) }), () => undefined)),
    rm: wrap((path, opts) => then(req('fs.rm', { path: absPath(path), recursive: !!(opts && opts.recursive) }), () => undefined)),
  });
}

// ---- timers: a timer is a host request the worker answers after the delay (counted in wall time) ----
let nextTimer = 1;
const timers = new MapC();
function setTimeout(fn, ms, ...args) {
  const callId = currentCall;
  const id = nextTimer++;
  const delay = MathFloor(NumberC(ms) || 0);
  const p = hostRequest(callId, 'timer', { ms: delay < 0 ? 0 : delay });
  mset(timers, id, true);
  ReflectApply(PromiseThen, p, [() => {
    if (mget(timers, id) === undefined) return;
    mdel(timers, id);
    currentCall = callId;
    if (typeof fn === 'function') ReflectApply(fn, undefined, args);
  }, () => { mdel(timers, id); }]);
  return id;
}
function clearTimeout(id) { mdel(timers, id); }
function setInterval(fn, ms, ...args) {
  const state = { id: 0 };
  const tick = () => { state.id = setTimeout(tick, ms); ReflectApply(fn, undefined, args); };
  state.id = setTimeout(tick, ms);
  return state;
}
function clearInterval(handle) { if (handle && typeof handle === 'object') clearTimeout(handle.id); else clearTimeout(handle); }
function queueMicrotask(fn) { ReflectApply(PromiseThen, PromiseResolve(), [() => fn()]); }

// ---- URL: parsed by the worker (WHATWG URL), exposed as a plain class ----
function parseUrl(input, base) {
  const r = JSONparse(syncOp('url', StringC(input), base === undefined ? '' : StringC(base)));
  if (r === null) throw new TypeErrorC('Invalid URL');
  return r;
}
class URLSearchParams {
  constructor(init) {
    this._p = [];
    this._url = null;
    if (init == null) return;
    if (typeof init === 'string') { this._parse(init); return; }
    if (ArrayIsArray(init)) { for (let i = 0; i < init.length; i++) this._p[this._p.length] = [StringC(init[i][0]), StringC(init[i][1])]; return; }
    const keys = ObjectKeys(init);
    for (let i = 0; i < keys.length; i++) this._p[this._p.length] = [keys[i], StringC(init[keys[i]])];
  }
  _parse(s) {
    this._p = [];
    if (s[0] === '?') s = ReflectApply(StringSlice, s, [1]);
    if (s === '') return;
    const pieces = s.split('&');
    for (let i = 0; i < pieces.length; i++) {
      if (pieces[i] === '') continue;
      const eq = pieces[i].indexOf('=');
      const k = eq < 0 ? pieces[i] : ReflectApply(StringSlice, pieces[i], [0, eq]);
      const v = eq < 0 ? '' : ReflectApply(StringSlice, pieces[i], [eq + 1]);
      const dec = (x) => { try { return decodeURIComponent(x.replace(/\+/g, ' ')); } catch { return x; } };
      this._p[this._p.length] = [dec(k), dec(v)];
    }
  }
  _update() { if (this._url) { const s = this.toString(); this._url._set('search', s === '' ? '' : '?' + s, true); } }
  append(k, v) { this._p[this._p.length] = [StringC(k), StringC(v)]; this._update(); }
  delete(k) { k = StringC(k); const out = []; for (const e of this._p) if (e[0] !== k) out[out.length] = e; this._p = out; this._update(); }
  get(k) { k = StringC(k); for (const e of this._p) if (e[0] === k) return e[1]; return null; }
  getAll(k) { k = StringC(k); const out = []; for (const e of this._p) if (e[0] === k) out[out.length] = e[1]; return out; }
  has(k) { return this.get(k) !== null; }
  set(k, v) { k = StringC(k); let done = false; const out = []; for (const e of this._p) { if (e[0] === k) { if (!done) { out[out.length] = [k, StringC(v)]; done = true; } } else out[out.length] = e; } if (!done) out[out.length] = [k, StringC(v)]; this._p = out; this._update(); }
  sort() { this._p.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); this._update(); }
  forEach(fn) { for (const e of this._p) fn(e[1], e[0], this); }
  keys() { return this._p.map((e) => e[0])[Symbol.iterator](); }
  values() { return this._p.map((e) => e[1])[Symbol.iterator](); }
  entries() { return this._p.map((e) => [e[0], e[1]])[Symbol.iterator](); }
  [Symbol.iterator]() { return this.entries(); }
  get size() { return this._p.length; }
  toString() {
    const enc = (x) => encodeURIComponent(x).replace(/%20/g, '+').replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
    const out = [];
    for (const e of this._p) out[out.length] = enc(e[0]) + '=' + enc(e[1]);
    return out.join('&');
  }
}
const URL_FIELDS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'];
class URL {
  constructor(input, base) {
    this._c = parseUrl(input, base);
    this._sp = new URLSearchParams(this._c.search);
    this._sp._url = this;
  }
  static canParse(input, base) { try { parseUrl(input, base); return true; } catch { return false; } }
  _set(field, value, fromParams) {
    const r = JSONparse(syncOp('urlSet', this._c.href, JSONstringify([field, StringC(value)])));
    if (r === null) { if (field === 'href') throw new TypeErrorC('Invalid URL'); return; }
    this._c = r;
    if (!fromParams) { this._sp._p = []; this._sp._parse(r.search); }
  }
  get searchParams() { return this._sp; }
  toString() { return this._c.href; }
  toJSON() { return this._c.href; }
}
for (let i = 0; i < URL_FIELDS.length; i++) {
  const f = URL_FIELDS[i];
  ObjectDefineProperty(URL.prototype, f, {
    get() { return this._c[f]; },
    set: f === 'origin' ? undefined : function (v) { this._set(f, v, false); },
    configurable: true,
  });
}

// ---- crypto ----
const crypto = ObjectFreeze({
  getRandomValues(array) {
    if (!ArrayBufferIsView(array)) throw new TypeErrorC('expected an integer typed array');
    const len = ReflectApply(TypedArrayByteLength, array, []);
    if (len > 65536) throw new RangeErrorC('getRandomValues: at most 65536 bytes');
    const src = new Uint8ArrayC(syncOp('random', len, ''));
    const dst = new Uint8ArrayC(ReflectApply(TypedArrayBuffer, array, []), ReflectApply(TypedArrayByteOffset, array, []), len);
    for (let i = 0; i < len; i++) dst[i] = src[i];
    return array;
  },
  randomUUID() {
    const b = new Uint8ArrayC(syncOp('random', 16, ''));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = '';
    for (let i = 0; i < 16; i++) { h += (b[i] + 0x100).toString(16).slice(1); if (i === 3 || i === 5 || i === 7 || i === 9) h += '-'; }
    return h;
  },
  subtle: ObjectFreeze({
    digest(algorithm, data) {
      try {
        const name = typeof algorithm === 'string' ? algorithm : algorithm && algorithm.name;
        const out = syncOp('digest', StringC(name), bufOf(toBytes(data)));
        if (!(out instanceof ArrayBufferC)) throw new TypeErrorC('unsupported digest algorithm');
        return PromiseResolve(out);
      } catch (e) {
        return PromiseReject(e);
      }
    },
  }),
});

// ---- console: every line goes to the call's log, under its quota ----
const consoleObj = {};
const LEVELS = { log: 'info', info: 'info', debug: 'debug', warn: 'warn', error: 'error', trace: 'debug' };
for (const k of ObjectKeys(LEVELS)) {
  consoleObj[k] = (...args) => {
    const parts = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      let s;
      if (typeof a === 'string') s = a;
      else { try { s = JSONstringify(a); } catch { s = safeString(a); } if (s === undefined) s = safeString(a); }
      parts[parts.length] = s;
    }
    log(currentCall, LEVELS[k], parts.join(' '));
  };
}

const api = {
  TextEncoder, TextDecoder, URL, URLSearchParams, Headers, crypto,
  setTimeout, clearTimeout, setInterval, clearInterval, queueMicrotask,
  console: ObjectFreeze(consoleObj),
  fetch: (input, init) => makeFetch(currentCall)(input, init),
};
for (const k of ObjectKeys(api)) ObjectDefineProperty(g, k, { value: api[k], writable: true, configurable: true, enumerable: false });

function makeCtx(callId, call, paths) {
  return ObjectFreeze({
    signal: call.signal,
    paths: ObjectFreeze(paths),
    fetch: makeFetch(callId),
    fs: makeFs(callId),
    log: (level, message, data) => log(callId, level, message, data),
    progress: (done, total, message) => {
      const size = message === undefined ? 16 : safeString(message).length + 16;
      if (call.logBytes + size > call.quota.logBytes) return;
      call.logBytes += size;
      post('progress', callId, 0, JSONstringify({ progress: NumberC(done), total: total === undefined ? undefined : NumberC(total), message: message === undefined ? undefined : safeString(message) }), '');
    },
  });
}
ObjectDefineProperty(g, 'warden', {
  get() {
    const call = mget(calls, currentCall);
    return call === undefined ? undefined : call.ctx;
  },
  configurable: false,
  enumerable: false,
});

function finish(callId, ok, value) {
  const call = mget(calls, callId);
  if (call === undefined) return;
  mdel(calls, callId);
  // Stray work of a finished call (unawaited fetches, timers) is dropped.
  ReflectApply(MapForEach, pending, [(p, id) => { if (p.callId === callId) mdel(pending, id); }]);
  if (!ok) { post('err', callId, 0, 'TOOL_THREW', errorMessage(value)); return; }
  let json;
  try { json = JSONstringify(value === undefined ? null : value); } catch (e) {
    post('err', callId, 0, 'OUTPUT_INVALID', 'the result is not JSON-serializable: ' + errorMessage(e));
    return;
  }
  if (typeof json !== 'string') { post('err', callId, 0, 'OUTPUT_INVALID', 'the result is not JSON-serializable'); return; }
  if (json.length > call.quota.outputBytes) { post('err', callId, 0, 'OUTPUT_TOO_LARGE', 'the result is larger than the output limit'); return; }
  post('ok', callId, 0, json, '');
}

function dispatch(callId, tool, argsJson, pathsJson, hostCalls, logBytes, outputBytes) {
  currentCall = callId;
  const quota = { hostCalls, logBytes, outputBytes };
  const handlers = toolModule;
  const handler = handlers !== null && typeof handlers === 'object' && ReflectApply(ObjectPrototypeHasOwn, handlers, [tool]) ? handlers[tool] : undefined;
  if (typeof handler !== 'function') { post('err', callId, 0, 'TOOL_NOT_FOUND', 'the package has no tool named ' + safeString(tool)); return; }
  const call = { signal: new WardenAbortSignal(), hostCalls: 0, inflight: 0, timers: 0, logBytes: 0, logCapped: false, quota, ctx: null };
  call.ctx = makeCtx(callId, call, JSONparse(pathsJson));
  mset(calls, callId, call);
  let result;
  try {
    result = ReflectApply(handler, handlers, [JSONparse(argsJson), call.ctx]);
  } catch (e) {
    finish(callId, false, e);
    return;
  }
  try {
    ReflectApply(PromiseThen, PromiseResolve(result), [(v) => finish(callId, true, v), (e) => finish(callId, false, e)]);
  } catch (e) {
    finish(callId, false, e);
  }
}

function abort(callId, reason) {
  currentCall = callId;
  const call = mget(calls, callId);
  if (call === undefined) return;
  const err = wardenError('CANCELLED', safeString(reason));
  call.signal._fire(err);
  // Everything the call is waiting on fails now, so that code awaiting it can clean up and return.
  ReflectApply(MapForEach, pending, [(p, id) => { if (p.callId === callId) { mdel(pending, id); p.reject(err); } }]);
}

function register(ns) {
  const d = ns.default;
  toolModule = d !== null && (typeof d === 'object' || typeof d === 'function') ? d : null;
}

return { dispatch, deliver, abort, register };
`;
export function bootstrapSource(): string {
  return BOOTSTRAP_SOURCE;
}
