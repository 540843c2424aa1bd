// @ts-check
/**
 * node:module for a wrapped server: `createRequire(...)` gives a `require` that serves the server's own
 * package.json (name and version, recorded at wrap time: servers read their version this way) and
 * refuses everything else with UNSUPPORTED_API (the bundle already holds every module the server imports).
 */
import { state } from './process-state.js';
import { unsupportedError } from './unsupported.js';

/** @param {unknown} _from */
export function createRequire(_from) {
  /** @param {string} id */
  function require(id) {
    if (typeof id === 'string' && /(^|\/)package\.json$/.test(id)) return { ...state.packageJson };
    throw unsupportedError('node:module.require(' + String(id).slice(0, 100) + ')');
  }
  require.resolve = (/** @type {string} */ id) => { throw unsupportedError('node:module.require.resolve(' + String(id).slice(0, 100) + ')'); };
  return require;
}
export const builtinModules = [];
export default { createRequire, builtinModules };
