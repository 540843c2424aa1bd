// @ts-check
/* global TextDecoder, TextEncoder -- the sandbox's globals (types/tool-api.d.ts) */
/** node:util for a wrapped server: the pure parts (format, inspect as JSON, promisify, inherits, types). */

/** @param {unknown} v */
export function inspect(v) {
  if (typeof v === 'string') return `'${v}'`;
  try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch { return String(v); }
}
/** @param {unknown} f @param {...unknown} args */
export function format(f, ...args) {
  if (typeof f !== 'string') return [f, ...args].map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ');
  // As Node: without arguments, the string is returned untouched (even its %%).
  if (args.length === 0) return f;
  let i = 0;
  const out = f.replace(/%[sdifjoO%]/g, (m) => {
    if (m === '%%') return '%';
    if (i >= args.length) return m;
    const a = args[i++];
    if (m === '%d' || m === '%i') return String(m === '%i' ? Math.trunc(Number(a)) : Number(a));
    if (m === '%f') return String(Number(a));
    if (m === '%s') return typeof a === 'string' ? a : inspect(a);
    return inspect(a);
  });
  return [out, ...args.slice(i).map((a) => (typeof a === 'string' ? a : inspect(a)))].join(' ');
}
/** @param {(...args: any[]) => void} fn */
export function promisify(fn) {
  /** @param {...any} args */
  return function (...args) {
    return new Promise((resolve, reject) => fn(...args, (/** @type {unknown} */ err, /** @type {unknown} */ value) => (err ? reject(err) : resolve(value))));
  };
}
/** @param {(...args: any[]) => Promise<unknown>} fn */
export function callbackify(fn) {
  /** @param {...any} args */
  return function (...args) {
    const cb = args.pop();
    fn(...args).then((v) => cb(null, v), (e) => cb(e));
  };
}
/** @param {Function} ctor @param {Function} superCtor */
export function inherits(ctor, superCtor) {
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
  Object.setPrototypeOf(ctor, superCtor);
}
/** @template {Function} F @param {F} fn @returns {F} */
export function deprecate(fn) { return fn; }
/** @param {string} _name */
export function debuglog(_name) { return () => {}; }
/** @param {unknown} a @param {unknown} b */
export function isDeepStrictEqual(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
export const types = {
  /** @param {unknown} v */ isPromise: (v) => v instanceof Promise,
  /** @param {unknown} v */ isDate: (v) => v instanceof Date,
  /** @param {unknown} v */ isRegExp: (v) => v instanceof RegExp,
  /** @param {unknown} v */ isUint8Array: (v) => v instanceof Uint8Array,
  /** @param {unknown} v */ isNativeError: (v) => v instanceof Error,
};
const TE = TextEncoder;
const TD = TextDecoder;
export { TE as TextEncoder, TD as TextDecoder };
export default { inspect, format, promisify, callbackify, inherits, deprecate, debuglog, isDeepStrictEqual, types, TextEncoder: TE, TextDecoder: TD };
