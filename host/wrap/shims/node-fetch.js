// @ts-check
/* global fetch -- the sandbox's fetch (types/tool-api.d.ts) */
/**
 * `node-fetch` (the common polyfill servers import) for a wrapped server: the sandbox's global fetch, so
 * every request is checked against the package's net grant by the host. Its Node streams, agents and
 * sockets are not bundled.
 */
/** @param {any} input @param {any} [init] */
export default function nodeFetch(input, init) { return fetch(input, init); }
/** @param {unknown} e */
export function isRedirect(e) { return e === 301 || e === 302 || e === 303 || e === 307 || e === 308; }
export class FetchError extends Error {}
export class AbortError extends Error {}
