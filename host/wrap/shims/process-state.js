// @ts-check
/** The wrapped server's process facts (set by hub.js when the server starts, from the wrap configuration). */

export const state = {
  /** @type {string[]} */
  argv: ['node', '/server'],
  /** @type {Record<string, string>} */
  env: {},
  cwd: '/',
  /** @type {{ name: string, version: string }} the server package's name and version (module.js) */
  packageJson: { name: '', version: '' },
  /** @type {number | null} the code the server exited with, once it called process.exit */
  exited: null,
};

export function cwd() { return state.cwd; }
