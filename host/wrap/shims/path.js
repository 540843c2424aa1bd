// @ts-check
/** node:path for a wrapped server: POSIX paths, pure (cwd from process.js). */
import { cwd } from './process-state.js';

export const sep = '/';
export const delimiter = ':';

/** @param {string} p @param {boolean} allowAboveRoot */
function normalizeParts(p, allowAboveRoot) {
  /** @type {string[]} */
  const out = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (allowAboveRoot) out.push('..');
      continue;
    }
    out.push(part);
  }
  return out;
}

/** @param {unknown} p */
function str(p) {
  if (typeof p !== 'string') throw new TypeError('The "path" argument must be of type string');
  return p;
}

/** @param {string} p */
export function isAbsolute(p) { return str(p).startsWith('/'); }

/** @param {string} p */
export function normalize(p) {
  str(p);
  if (p === '') return '.';
  const abs = p.startsWith('/');
  const trailing = p.endsWith('/');
  let out = normalizeParts(p, !abs).join('/');
  if (out === '' && !abs) out = '.';
  if (out !== '' && trailing) out += '/';
  return abs ? '/' + out : out;
}

/** @param {...string} parts */
export function join(...parts) {
  const kept = parts.map(str).filter((x) => x !== '');
  return kept.length === 0 ? '.' : normalize(kept.join('/'));
}

/** @param {...string} parts */
export function resolve(...parts) {
  let resolved = '';
  for (let i = parts.length - 1; i >= -1 && !resolved.startsWith('/'); i--) {
    const part = i >= 0 ? str(parts[i]) : cwd();
    if (part === '') continue;
    resolved = resolved === '' ? part : part + '/' + resolved;
  }
  const out = '/' + normalizeParts(resolved, false).join('/');
  return out;
}

/** @param {string} from @param {string} to */
export function relative(from, to) {
  const a = resolve(from).split('/').filter(Boolean);
  const b = resolve(to).split('/').filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/');
}

/** @param {string} p */
export function dirname(p) {
  str(p);
  if (p === '') return '.';
  const trimmed = p.length > 1 ? p.replace(/\/+$/, '') : p;
  const i = trimmed.lastIndexOf('/');
  if (i < 0) return '.';
  if (i === 0) return '/';
  return trimmed.slice(0, i);
}

/** @param {string} p @param {string} [ext] */
export function basename(p, ext) {
  str(p);
  const trimmed = p.length > 1 ? p.replace(/\/+$/, '') : p;
  let base = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  if (ext !== undefined && base.endsWith(ext) && base !== ext) base = base.slice(0, -ext.length);
  return base;
}

/** @param {string} p */
export function extname(p) {
  const base = basename(p);
  const i = base.lastIndexOf('.');
  return i <= 0 ? '' : base.slice(i);
}

/** @param {string} p */
export function parse(p) {
  const root = isAbsolute(p) ? '/' : '';
  const base = basename(p);
  const ext = extname(p);
  const dir = p.includes('/') ? dirname(p) : '';
  return { root, dir, base, ext, name: ext === '' ? base : base.slice(0, -ext.length) };
}

/** @param {{ root?: string, dir?: string, base?: string, name?: string, ext?: string }} o */
export function format(o) {
  const base = o.base ?? (o.name ?? '') + (o.ext ?? '');
  const dir = o.dir ?? o.root ?? '';
  return dir === '' ? base : dir === o.root ? dir + base : dir + '/' + base;
}

/** @param {string} p */
export function toNamespacedPath(p) { return p; }

const path = { sep, delimiter, isAbsolute, normalize, join, resolve, relative, dirname, basename, extname, parse, format, toNamespacedPath, posix: /** @type {any} */ (null), win32: /** @type {any} */ (null) };
path.posix = path;
path.win32 = path;
export const posix = path;
export const win32 = path;
export default path;
