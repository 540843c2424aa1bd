// @ts-check
/**
 * The entry points the worker calls (dispatch, deliver, abort, register); the last file of the bootstrap,
 * whose closure returns them. Tool code never reaches them.
 */
import {
  JSONparse, JSONstringify, MapForEach, ObjectDefineProperty, ObjectPrototypeHasOwn, PromiseResolve, PromiseThen, ReflectApply,
  errorMessage, StringIndexOf, StringSlice, mdel, mget, mset, postOutcome, safeString, wardenError,
} from './intrinsics.js';
import { WardenAbortSignal, calls, deliver, entry, pending } from './calls.js';
import { makeCtx } from './context.js';

/** @typedef {import('./calls.js').Call} Call */

/**
 * The package's handlers by kind: the default export (tools) and the named exports `resources`,
 * `prompts` and `completions`, and the named export `mcpServer` of a wrapped MCP server (kind "rpc": its
 * handler takes one JSON-RPC message as JSON text and returns the answer as JSON text, docs/wrapping.md).
 * A call names "<kind>:<handler>" (runtime/entry-name.ts).
 * @type {{ tool: Record<string, unknown> | null, resource: Record<string, unknown> | null, prompt: Record<string, unknown> | null, completion: Record<string, unknown> | null, rpc: Record<string, unknown> | null }}
 */
const handlerMaps = { tool: null, resource: null, prompt: null, completion: null, rpc: null };

/** @type {Record<string, string>} */
const KIND_NOUN = { tool: 'tool', round: 'tool', resource: 'resource handler', prompt: 'prompt handler', completion: 'completion handler', rpc: 'server entry' };

/**
 * The handler a call names, or undefined.
 * @param {string} target "<kind>:<name>"
 * @returns {{ handlers: Record<string, unknown> | null, handler: unknown, kind: string, name: string }}
 */
function lookup(target) {
  const colon = ReflectApply(StringIndexOf, target, [':']);
  const kind = colon < 0 ? '' : ReflectApply(StringSlice, target, [0, colon]);
  const name = colon < 0 ? target : ReflectApply(StringSlice, target, [colon + 1]);
  // A tool call after ctx.inputRequired ('round', runtime/entry-name.ts) runs a tool too.
  const handlers = kind === 'round' ? handlerMaps.tool : kind === 'tool' || kind === 'resource' || kind === 'prompt' || kind === 'completion' || kind === 'rpc' ? handlerMaps[kind] : null;
  const handler = handlers !== null && typeof handlers === 'object' && ReflectApply(ObjectPrototypeHasOwn, handlers, [name]) ? handlers[name] : undefined;
  return { handlers, handler, kind, name };
}

/** Marks an input-required result's JSON (runtime/pool/messages.ts): no JSON text starts with NUL. */
const INPUT_REQUIRED_PREFIX = '\u0000input_required\u0000';

/**
 * Posts the outcome of call `callId` once. The worker holds it until the entry running now has returned.
 * @param {number} callId
 * @param {boolean} ok
 * @param {unknown} value
 */
function finish(callId, ok, value) {
  const call = mget(calls, callId);
  if (call === undefined) return;
  mdel(calls, callId);
  // Stray work of a finished call (unawaited fetches, timers) is dropped.
  ReflectApply(MapForEach, pending, [(/** @type {{ callId: number }} */ p, /** @type {number} */ id) => { if (p.callId === callId) mdel(pending, id); }]);
  if (!ok) { postOutcome('err', callId, 0, 'TOOL_THREW', errorMessage(value)); return; }
  // The value ctx.inputRequired returned (by identity, so no data a tool passes through can pose as one).
  if (call.inputMarker !== null && value === call.inputMarker) { postOutcome('ok', callId, 0, INPUT_REQUIRED_PREFIX + call.inputJson, ''); return; }
  // A server entry answers with JSON text already (the host parses it, and refuses what is not JSON).
  if (call.rpc) {
    if (typeof value !== 'string') { postOutcome('err', callId, 0, 'OUTPUT_INVALID', 'the server entry did not answer with JSON text'); return; }
    if (value.length > call.quota.outputBytes) { postOutcome('err', callId, 0, 'OUTPUT_TOO_LARGE', 'the result is larger than the output limit'); return; }
    postOutcome('ok', callId, 0, value, '');
    return;
  }
  let json;
  try { json = JSONstringify(value === undefined ? null : value); } catch (e) {
    postOutcome('err', callId, 0, 'OUTPUT_INVALID', 'the result is not JSON-serializable: ' + errorMessage(e));
    return;
  }
  if (typeof json !== 'string') { postOutcome('err', callId, 0, 'OUTPUT_INVALID', 'the result is not JSON-serializable'); return; }
  if (json.length > call.quota.outputBytes) { postOutcome('err', callId, 0, 'OUTPUT_TOO_LARGE', 'the result is larger than the output limit'); return; }
  postOutcome('ok', callId, 0, json, '');
}

/**
 * A tool call's arguments from their frame (runtime/call-args.ts): the JSON at the start of `text`, then
 * each long string that followed it raw, put back under its key (where the JSON holds a placeholder, so
 * the keys keep their order). It runs after the package's earlier calls, which may have patched built-ins:
 * no iterator (no destructuring), and descriptors without a prototype (an inherited `get` would make one
 * an accessor's).
 * @param {string} text
 * @param {string} rawJson "[[key, length], …]"
 * @returns {unknown}
 */
function argsFromFrame(text, rawJson) {
  const raw = /** @type {[string, number][]} */ (JSONparse(rawJson));
  let at = text.length;
  for (let i = 0; i < raw.length; i++) at -= /** @type {[string, number]} */ (raw[i])[1];
  const args = /** @type {Record<string, unknown>} */ (JSONparse(ReflectApply(StringSlice, text, [0, at])));
  for (let i = 0; i < raw.length; i++) {
    const pair = /** @type {[string, number]} */ (raw[i]);
    const end = at + pair[1];
    ObjectDefineProperty(args, pair[0], /** @type {PropertyDescriptor} */ ({ __proto__: null, value: ReflectApply(StringSlice, text, [at, end]), writable: true, enumerable: true, configurable: true }));
    at = end;
  }
  return args;
}

/**
 * Entry point: starts call `callId` of `target` ("<kind>:<name>").
 * @param {number} callId
 * @param {string} target
 * @param {string} argsJson the arguments' JSON, or their frame's text when `rawJson` is not ''
 * @param {string} rawJson
 * @param {string} pathsJson
 * @param {number} hostCalls
 * @param {number} logBytes
 * @param {number} outputBytes
 */
function dispatch(callId, target, argsJson, rawJson, pathsJson, hostCalls, logBytes, outputBytes) {
  entry.call = callId;
  const quota = { hostCalls, logBytes, outputBytes };
  const { handlers, handler, kind, name } = lookup(target);
  if (typeof handler !== 'function') { postOutcome('err', callId, 0, 'TOOL_NOT_FOUND', 'the package has no ' + (KIND_NOUN[kind] ?? 'tool') + ' named ' + safeString(name)); return; }
  /** @type {Call} */
  const call = { signal: new WardenAbortSignal(), hostCalls: 0, inflight: 0, timers: 0, logBytes: 0, logCapped: false, quota, ctx: null, inputMarker: null, inputJson: '', rpc: kind === 'rpc' };
  // A round carries { arguments, inputResponses, requestState } (runtime/pool/index.ts).
  // A server entry gets the message as the JSON text that crossed (it parses it itself).
  const parsed = kind === 'rpc' ? argsJson : rawJson === '' ? JSONparse(argsJson) : argsFromFrame(argsJson, rawJson);
  const round = kind === 'round' && parsed !== null && typeof parsed === 'object' ? /** @type {{ arguments?: unknown, inputResponses?: unknown, requestState?: unknown }} */ (parsed) : null;
  const ctx = makeCtx(callId, call, JSONparse(pathsJson), kind === 'tool' || kind === 'round', round);
  call.ctx = ctx;
  mset(calls, callId, call);
  let result;
  try {
    result = ReflectApply(handler, handlers, [round !== null ? round.arguments : parsed, ctx]);
  } catch (e) {
    finish(callId, false, e);
    return;
  }
  try {
    ReflectApply(PromiseThen, PromiseResolve(result), [(/** @type {unknown} */ v) => finish(callId, true, v), (/** @type {unknown} */ e) => finish(callId, false, e)]);
  } catch (e) {
    finish(callId, false, e);
  }
}

/**
 * Entry point: call `callId` was cancelled. Its signal fires, and everything it waits on fails now, so
 * that code awaiting it can clean up and return.
 * @param {number} callId
 * @param {string} reason
 */
function abort(callId, reason) {
  entry.call = callId;
  const call = mget(calls, callId);
  if (call === undefined) return;
  const err = wardenError('CANCELLED', safeString(reason));
  call.signal._fire(err);
  ReflectApply(MapForEach, pending, [(/** @type {{ callId: number, reject: (e: unknown) => void }} */ p, /** @type {number} */ id) => { if (p.callId === callId) { mdel(pending, id); p.reject(err); } }]);
}

/**
 * The object of one export, or null.
 * @param {unknown} v
 * @returns {Record<string, unknown> | null}
 */
function handlerMap(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') ? /** @type {Record<string, unknown>} */ (v) : null;
}

/**
 * Entry point: the package's module namespace, once evaluated. Each export is read once.
 * @param {{ default?: unknown, resources?: unknown, prompts?: unknown, completions?: unknown, mcpServer?: unknown }} ns
 */
function register(ns) {
  handlerMaps.tool = handlerMap(ns.default);
  handlerMaps.resource = handlerMap(ns.resources);
  handlerMaps.prompt = handlerMap(ns.prompts);
  handlerMaps.completion = handlerMap(ns.completions);
  handlerMaps.rpc = handlerMap(ns.mcpServer);
}

/**
 * Entry point, once per isolate, before any package (runtime/isolate.ts, PackageIsolate.prepare): one call of
 * a built-in no-op tool through the path a package's calls take (register, dispatch, the call's context and
 * the outcome's post), so that V8 has compiled those functions and isolated-vm has entered the isolate
 * before a package's first call has to wait for both. It leaves nothing behind: its handlers are unregistered
 * and its call is finished (its outcome posted under `callId`, which the worker never gives a call) before
 * the entry returns.
 * @param {number} callId
 */
function warmUp(callId) {
  register({ default: { warmUp: (/** @type {unknown} */ input) => input } });
  try {
    dispatch(callId, 'tool:warmUp', '{"warm":true}', '', '{}', 1, 1, 64);
  } finally {
    register({});
    entry.call = 0;
  }
}

export const ENTRIES = { dispatch, deliver, abort, register, warmUp };
