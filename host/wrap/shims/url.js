// @ts-check
/* global URL, URLSearchParams -- the sandbox's globals (types/tool-api.d.ts) */
/** node:url for a wrapped server: the sandbox's URL, and file: URLs converted purely. */
import { resolve } from './path.js';

const GURL = URL;
const GURLSearchParams = URLSearchParams;
export { GURL as URL, GURLSearchParams as URLSearchParams };

/** @param {string | URL} u */
export function fileURLToPath(u) {
  const url = typeof u === 'string' ? new GURL(u) : u;
  if (url.protocol !== 'file:') throw new TypeError('The URL must be of scheme file');
  return decodeURIComponent(url.pathname);
}

/** @param {string} p */
export function pathToFileURL(p) {
  const abs = resolve(p);
  return new GURL('file://' + abs.split('/').map((s) => encodeURIComponent(s)).join('/'));
}

/** @param {string} s */
export function parse(s) { return new GURL(s); }
/** @param {URL} u */
export function format(u) { return String(u); }
export default { URL: GURL, URLSearchParams: GURLSearchParams, fileURLToPath, pathToFileURL, parse, format };
