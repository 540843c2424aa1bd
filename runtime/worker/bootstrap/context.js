// @ts-check
/** The call context (ctx) and the globals a tool sees instead of Node's. */
import { JSONstringify, NumberC, TypeErrorC, ObjectDefineProperty, ObjectFreeze, ObjectKeys, g, mget, post, safeString } from './intrinsics.js';
import { ambientCall, calls, log } from './calls.js';
import { crypto } from './crypto.js';
import { Headers, makeFetch } from './fetch.js';
import { makeFs } from './fs.js';
import { TextDecoder, TextEncoder } from './text.js';
import { clearInterval, clearTimeout, queueMicrotask, setInterval, setTimeout } from './timers.js';
import { URL, URLSearchParams } from './url.js';

/** @typedef {import('./calls.js').Call} Call */

// console: every line goes to the log of the ambient call (see calls.js), under its quota.
/** @type {Record<string, (...args: unknown[]) => void>} */
const consoleObj = {};
/** @type {Record<string, string>} */
const LEVELS = { log: 'info', info: 'info', debug: 'debug', warn: 'warn', error: 'error', trace: 'debug' };
for (const k of ObjectKeys(LEVELS)) {
  consoleObj[k] = (...args) => {
    /** @type {string[]} */
    const parts = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      let s;
      if (typeof a === 'string') s = a;
      else { try { s = JSONstringify(a); } catch { s = safeString(a); } if (s === undefined) s = safeString(a); }
      parts[parts.length] = s;
    }
    log(ambientCall(), LEVELS[k], parts.join(' '));
  };
}

/** @type {Record<string, unknown>} */
const api = {
  TextEncoder, TextDecoder, URL, URLSearchParams, Headers, crypto,
  setTimeout, clearTimeout, setInterval, clearInterval, queueMicrotask,
  console: ObjectFreeze(consoleObj),
  fetch: (/** @type {any} */ input, /** @type {any} */ init) => makeFetch(ambientCall())(input, init),
};
for (const k of ObjectKeys(api)) ObjectDefineProperty(g, k, { value: api[k], writable: true, configurable: true, enumerable: false });

ObjectDefineProperty(g, 'warden', {
  get() {
    const call = mget(calls, ambientCall());
    return call === undefined ? undefined : call.ctx;
  },
  configurable: false,
  enumerable: false,
});

/**
 * `ctx.inputRequired(spec)` of a tool call: the spec is read once and copied to JSON now (the host
 * validates it); the returned marker is recognised by identity when the tool returns it (entries.js).
 * @param {Call} call
 * @param {import('../../../types/tool-api.d.ts').InputRequiredSpec} spec
 * @returns {import('../../../types/tool-api.d.ts').InputRequiredReturn}
 */
function inputRequired(call, spec) {
  if (spec === null || typeof spec !== 'object') throw new TypeErrorC('ctx.inputRequired takes { inputRequests?, requestState? }');
  const inputRequests = spec.inputRequests;
  const requestState = spec.requestState;
  if (requestState !== undefined && typeof requestState !== 'string') throw new TypeErrorC('requestState must be a string');
  let json;
  try { json = JSONstringify({ inputRequests, requestState }); } catch { json = undefined; }
  if (typeof json !== 'string') throw new TypeErrorC('the input request is not JSON-serializable');
  if (json.length > call.quota.outputBytes) throw new TypeErrorC('the input request is larger than the output limit');
  const marker = ObjectFreeze({ __inputRequired: /** @type {true} */ (true) });
  call.inputMarker = marker;
  call.inputJson = json;
  return marker;
}

/**
 * The context of call `callId`: every function in it is bound to that call.
 * @param {number} callId
 * @param {Call} call
 * @param {Record<string, string>} paths
 * @param {boolean} tool whether the call runs a tool (only tools may ask for input)
 * @param {{ inputResponses?: unknown, requestState?: unknown } | null} round the client's answers, on a call after ctx.inputRequired
 * @returns {import('../../../types/tool-api.d.ts').ToolContext}
 */
export function makeCtx(callId, call, paths, tool, round) {
  const responses = round !== null && round.inputResponses !== null && typeof round.inputResponses === 'object' ? round.inputResponses : undefined;
  return ObjectFreeze({
    inputResponses: /** @type {Record<string, import('../../../types/tool-api.d.ts').InputResponse> | undefined} */ (responses),
    requestState: round !== null && typeof round.requestState === 'string' ? round.requestState : undefined,
    inputRequired: (spec) => {
      if (!tool) throw new TypeErrorC('only a tool can ask the client for input');
      return inputRequired(call, spec);
    },
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
