// @ts-check
/**
 * Timers: a timer is a host request the worker answers after the delay (counted in the call's wall time).
 * The request carries the time it was set at, so that the worker keeps the order of timers set in a row
 * even when it receives them late (the isolate runs on its own thread).
 */
import { DateNow, MapC, MathFloor, NumberC, PromiseResolve, PromiseThen, ReflectApply, mdel, mget, mset } from './intrinsics.js';
import { ambientCall, entry, hostRequest } from './calls.js';

let nextTimer = 1;
/** @type {Map<number, true>} */
const timers = new MapC();

/**
 * @param {(...args: any[]) => void} fn
 * @param {number} [ms]
 * @param {...any} args
 * @returns {number}
 */
export function setTimeout(fn, ms, ...args) {
  const callId = ambientCall();
  const id = nextTimer++;
  const delay = MathFloor(NumberC(ms) || 0);
  const p = hostRequest(callId, 'timer', { ms: delay < 0 ? 0 : delay, at: DateNow() });
  mset(timers, id, true);
  ReflectApply(PromiseThen, p, [() => {
    if (mget(timers, id) === undefined) return;
    mdel(timers, id);
    entry.call = callId;
    if (typeof fn === 'function') ReflectApply(fn, undefined, args);
  }, () => { mdel(timers, id); }]);
  return id;
}

/** @param {number | undefined} id */
export function clearTimeout(id) { mdel(timers, id); }

/**
 * @param {(...args: any[]) => void} fn
 * @param {number} [ms]
 * @param {...any} args
 * @returns {{ id: number }}
 */
export function setInterval(fn, ms, ...args) {
  const state = { id: 0 };
  const tick = () => { state.id = setTimeout(tick, ms); ReflectApply(fn, undefined, args); };
  state.id = setTimeout(tick, ms);
  return state;
}

/** @param {{ id: number } | number | undefined} handle */
export function clearInterval(handle) { if (handle && typeof handle === 'object') clearTimeout(handle.id); else clearTimeout(handle); }

/** @param {() => void} fn */
export function queueMicrotask(fn) { ReflectApply(PromiseThen, PromiseResolve(), [() => fn()]); }
