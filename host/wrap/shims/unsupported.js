// @ts-check
/**
 * What a wrapped server cannot have in the sandbox (child processes, sockets, synchronous file access,
 * native addons: docs/wrapping.md). Each such API is a function that throws an error with the code
 * UNSUPPORTED_API naming it, and records the name for the call in flight (hub.js answers that call with
 * the code). The wrap step finds the names in the bundle (the MARK prefix) and reports them.
 */

/** Prefix of every unsupported API's name in the bundle's text (host/wrap/report.ts looks for it). */
export const MARK = 'unsupported-api:';

/** @type {{ hit: string | null }} */
export const unsupportedState = { hit: null };

/**
 * The error a call of `name` throws.
 * @param {string} name e.g. "node:child_process.spawn"
 * @returns {Error & { code: string }}
 */
export function unsupportedError(name) {
  unsupportedState.hit = name;
  const e = /** @type {Error & { code: string }} */ (new Error('UNSUPPORTED_API: ' + name + ' is not available in the mcp-warden sandbox'));
  e.code = 'UNSUPPORTED_API';
  return e;
}

/**
 * A function standing for `name` that throws when called (and when constructed).
 * @param {string} name the marked name, MARK + module + "." + export
 * @returns {(...args: unknown[]) => never}
 */
export function unsupported(name) {
  const api = name.startsWith(MARK) ? name.slice(MARK.length) : name;
  return function () { throw unsupportedError(api); };
}
