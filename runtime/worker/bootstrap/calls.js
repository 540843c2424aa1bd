// @ts-check
/**
 * Per-call state, host requests and the call's log.
 *
 * Several calls of one package may be in flight in its warm isolate at once. Each call's context (ctx)
 * carries that call's id in closures: what a tool does through ctx is always charged to its own call, in
 * whichever entry its code happens to run. The globals (console, fetch, setTimeout, warden) cannot know
 * which call's code runs them; they use `ambientCall()`: the call on whose behalf the worker entered the
 * isolate (entries are the only way code runs here), or, once that call has ended, the one call still in
 * flight. Code of one call that runs in another live call's entry (a promise shared between calls through
 * module state) is charged by the globals to the entry's call: ctx is exact, the globals are not.
 */
import {
  JSONparse, JSONstringify, MapC, MapForEach, PromiseC, PromiseReject, ReflectApply, mdel, mget, mset, post, safeString,
  wardenError,
} from './intrinsics.js';

/** @typedef {import('../../../types/tool-api.d.ts').ToolContext} ToolContext */
/** @typedef {{ hostCalls: number, logBytes: number, outputBytes: number }} Quota */
/**
 * @typedef {object} Call
 * @property {WardenAbortSignal} signal
 * @property {number} hostCalls
 * @property {number} inflight
 * @property {number} timers
 * @property {number} logBytes
 * @property {boolean} logCapped
 * @property {Quota} quota
 * @property {ToolContext | null} ctx
 * @property {object | null} inputMarker the value ctx.inputRequired last returned (tools only)
 * @property {string} inputJson what it asked for, as JSON
 * @property {boolean} rpc whether the call runs a wrapped server's entry (its answer is JSON text)
 */
/**
 * @typedef {object} Pending
 * @property {(v: { value: unknown, bytes: ArrayBuffer | undefined }) => void} resolve
 * @property {(e: unknown) => void} reject
 * @property {number} callId
 * @property {boolean} timer
 */

/** The call on whose behalf the isolate is entered now (0: none). */
export const entry = { call: 0 };

/** @type {Map<number, Call>} */
export const calls = new MapC();
/** @type {Map<number, Pending>} */
export const pending = new MapC();
let nextReq = 1;

/** The call the globals act for (see above); 0 when none can be told. */
export function ambientCall() {
  if (mget(calls, entry.call) !== undefined) return entry.call;
  let only = 0;
  let live = 0;
  ReflectApply(MapForEach, calls, [(/** @type {Call} */ _call, /** @type {number} */ id) => { live++; only = id; }]);
  return live === 1 ? only : 0;
}

/** @typedef {import('../../../types/tool-api.d.ts').WardenAbortSignal} ApiAbortSignal */

/** @implements {ApiAbortSignal} */
export class WardenAbortSignal {
  constructor() {
    this.aborted = false;
    /** @type {unknown} */
    this.reason = undefined;
    /** @type {((event: { type: 'abort' }) => void) | null} */
    this.onabort = null;
    /** @type {(((event: { type: 'abort' }) => void) | null)[]} */
    this._l = [];
  }
  /** @param {string} type @param {(event: { type: 'abort' }) => void} fn */
  addEventListener(type, fn) { if (type === 'abort' && typeof fn === 'function') this._l[this._l.length] = fn; }
  /** @param {string} _type @param {(event: { type: 'abort' }) => void} fn */
  removeEventListener(_type, fn) { const l = this._l; for (let i = 0; i < l.length; i++) if (l[i] === fn) l[i] = null; }
  throwIfAborted() { if (this.aborted) throw this.reason; }
  /** @param {unknown} reason */
  _fire(reason) {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const fns = this._l;
    if (typeof this.onabort === 'function') try { this.onabort({ type: 'abort' }); } catch { /* the tool's own */ }
    for (let i = 0; i < fns.length; i++) { const fn = fns[i]; if (fn) try { fn({ type: 'abort' }); } catch { /* the tool's own */ } }
  }
}

/** @param {number} callId @returns {Call} */
export function requireCall(callId) {
  const call = mget(calls, callId);
  if (call === undefined) throw wardenError('CANCELLED', 'the tool call has ended');
  return call;
}

const MAX_TIMERS = 1000;

/**
 * Sends a request to the host for `callId`; resolves with its answer. `args` is built here from copied
 * primitives only.
 * @param {number} callId
 * @param {string} op
 * @param {Record<string, unknown>} args
 * @param {ArrayBuffer} [body]
 * @returns {Promise<{ value: any, bytes: ArrayBuffer | undefined }>}
 */
export function hostRequest(callId, op, args, body) {
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

/**
 * Entry point: the host's answer to request `reqId` of call `callId`.
 * @param {number} callId
 * @param {number} reqId
 * @param {boolean} ok
 * @param {string} json
 * @param {ArrayBuffer | undefined} bytes
 */
export function deliver(callId, reqId, ok, json, bytes) {
  entry.call = callId;
  const p = mget(pending, reqId);
  if (p === undefined || p.callId !== callId) return;
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

/**
 * The MCP (syslog) level of a ctx.log level: one of the eight, 'warn' is 'warning', anything else 'info'.
 * @param {unknown} level
 * @returns {string}
 */
function logLevel(level) {
  switch (level) {
    case 'debug': case 'info': case 'notice': case 'warning': case 'error': case 'critical': case 'alert': case 'emergency': return level;
    case 'warn': return 'warning';
    default: return 'info';
  }
}

/**
 * A log line of call `callId`, under its quota.
 * @param {number} callId
 * @param {unknown} level
 * @param {unknown} message
 * @param {unknown} [data]
 */
export function log(callId, level, message, data) {
  const call = mget(calls, callId);
  if (call === undefined) return;
  const text = safeString(message);
  let extra = '';
  if (data !== undefined) { try { extra = safeString(JSONstringify(data)); } catch { extra = ''; } }
  const size = text.length + extra.length;
  if (call.logBytes + size > call.quota.logBytes) {
    if (!call.logCapped) { call.logCapped = true; post('log', callId, 0, 'warning', 'log quota reached; further log lines dropped'); }
    return;
  }
  call.logBytes += size;
  post('log', callId, 0, logLevel(level), text + (extra ? '\u0000' + extra : ''));
}
