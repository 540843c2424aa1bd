// @ts-check
/* global clearTimeout, setTimeout -- the sandbox's globals (types/tool-api.d.ts) */
/** node:timers (and timers/promises) for a wrapped server: the sandbox's timers; setImmediate is a 0 ms timeout. */

/** @param {(...args: any[]) => void} fn @param {...any} args */
export function setImmediate(fn, ...args) { return setTimeout(fn, 0, ...args); }
/** @param {number | undefined} id */
export function clearImmediate(id) { clearTimeout(id); }
const st = globalThis.setTimeout;
const ct = globalThis.clearTimeout;
const si = globalThis.setInterval;
const ci = globalThis.clearInterval;
export { st as setTimeout, ct as clearTimeout, si as setInterval, ci as clearInterval };
export const promises = {
  /** @param {number} [ms] @param {unknown} [value] */
  setTimeout: (ms, value) => new Promise((resolve) => st(() => resolve(value), ms)),
  /** @param {unknown} [value] */
  setImmediate: (value) => new Promise((resolve) => st(() => resolve(value), 0)),
};
export default { setTimeout: st, clearTimeout: ct, setInterval: si, clearInterval: ci, setImmediate, clearImmediate, promises };
