// @ts-check
/** URL and URLSearchParams: parsed by the worker (WHATWG URL), exposed as plain classes. */
import { ArrayIsArray, JSONparse, JSONstringify, ObjectDefineProperty, ObjectKeys, ReflectApply, StringC, StringSlice, TypeErrorC, syncOp } from './intrinsics.js';

/**
 * @typedef {{ href: string, origin: string, protocol: string, username: string, password: string, host: string,
 *   hostname: string, port: string, pathname: string, search: string, hash: string }} UrlFields
 */

/** @param {unknown} input @param {unknown} [base] @returns {UrlFields} */
function parseUrl(input, base) {
  const r = JSONparse(syncOp('url', StringC(input), base === undefined ? '' : StringC(base)));
  if (r === null) throw new TypeErrorC('Invalid URL');
  return r;
}

export class URLSearchParams {
  /** @param {string | Record<string, string> | [string, string][]} [init] */
  constructor(init) {
    /** @type {[string, string][]} */
    this._p = [];
    /** @type {URL | null} */
    this._url = null;
    if (init == null) return;
    if (typeof init === 'string') { this._parse(init); return; }
    if (ArrayIsArray(init)) {
      for (let i = 0; i < init.length; i++) { const pair = init[i]; this._p[this._p.length] = [StringC(pair[0]), StringC(pair[1])]; }
      return;
    }
    const keys = ObjectKeys(init);
    for (let i = 0; i < keys.length; i++) this._p[this._p.length] = [keys[i], StringC(init[keys[i]])];
  }
  /** @param {string} s */
  _parse(s) {
    this._p = [];
    if (s[0] === '?') s = ReflectApply(StringSlice, s, [1]);
    if (s === '') return;
    const pieces = s.split('&');
    /** @param {string} x */
    const dec = (x) => { try { return decodeURIComponent(x.replace(/\+/g, ' ')); } catch { return x; } };
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (piece === '') continue;
      const eq = piece.indexOf('=');
      const k = eq < 0 ? piece : ReflectApply(StringSlice, piece, [0, eq]);
      const v = eq < 0 ? '' : ReflectApply(StringSlice, piece, [eq + 1]);
      this._p[this._p.length] = [dec(k), dec(v)];
    }
  }
  _update() { if (this._url) { const s = this.toString(); this._url._set('search', s === '' ? '' : '?' + s, true); } }
  /** @param {string} k @param {string} v */
  append(k, v) { this._p[this._p.length] = [StringC(k), StringC(v)]; this._update(); }
  /** @param {string} k */
  delete(k) { k = StringC(k); /** @type {[string, string][]} */ const out = []; for (const e of this._p) if (e[0] !== k) out[out.length] = e; this._p = out; this._update(); }
  /** @param {string} k */
  get(k) { k = StringC(k); for (const e of this._p) if (e[0] === k) return e[1]; return null; }
  /** @param {string} k */
  getAll(k) { k = StringC(k); /** @type {string[]} */ const out = []; for (const e of this._p) if (e[0] === k) out[out.length] = e[1]; return out; }
  /** @param {string} k */
  has(k) { return this.get(k) !== null; }
  /** @param {string} k @param {string} v */
  set(k, v) {
    k = StringC(k);
    let done = false;
    /** @type {[string, string][]} */
    const out = [];
    for (const e of this._p) { if (e[0] === k) { if (!done) { out[out.length] = [k, StringC(v)]; done = true; } } else out[out.length] = e; }
    if (!done) out[out.length] = [k, StringC(v)];
    this._p = out;
    this._update();
  }
  sort() { this._p.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); this._update(); }
  /** @param {(value: string, name: string, self: URLSearchParams) => void} fn */
  forEach(fn) { for (const e of this._p) fn(e[1], e[0], this); }
  keys() { return this._p.map((e) => e[0])[Symbol.iterator](); }
  values() { return this._p.map((e) => e[1])[Symbol.iterator](); }
  /** @returns {IterableIterator<[string, string]>} */
  entries() { return this._p.map((e) => /** @type {[string, string]} */ ([e[0], e[1]]))[Symbol.iterator](); }
  [Symbol.iterator]() { return this.entries(); }
  get size() { return this._p.length; }
  toString() {
    /** @param {string} x */
    const enc = (x) => encodeURIComponent(x).replace(/%20/g, '+').replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
    /** @type {string[]} */
    const out = [];
    for (const e of this._p) out[out.length] = enc(e[0]) + '=' + enc(e[1]);
    return out.join('&');
  }
}

/** @type {(keyof UrlFields)[]} */
const URL_FIELDS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'];

export class URL {
  /** @param {string} input @param {string} [base] */
  constructor(input, base) {
    this._c = parseUrl(input, base);
    this._sp = new URLSearchParams(this._c.search);
    this._sp._url = this;
  }
  /** @param {string} input @param {string} [base] */
  static canParse(input, base) { try { parseUrl(input, base); return true; } catch { return false; } }
  /** @param {keyof UrlFields} field @param {unknown} value @param {boolean} fromParams */
  _set(field, value, fromParams) {
    const r = JSONparse(syncOp('urlSet', this._c.href, JSONstringify([field, StringC(value)])));
    if (r === null) { if (field === 'href') throw new TypeErrorC('Invalid URL'); return; }
    this._c = r;
    if (!fromParams) { this._sp._p = []; this._sp._parse(r.search); }
  }
  get searchParams() { return this._sp; }
  toString() { return this._c.href; }
  toJSON() { return this._c.href; }
}
for (let i = 0; i < URL_FIELDS.length; i++) {
  const f = URL_FIELDS[i];
  ObjectDefineProperty(URL.prototype, f, {
    /** @this {URL} */
    get() { return this._c[f]; },
    set: f === 'origin' ? undefined : /** @this {URL} @param {unknown} v */ function (v) { this._set(f, v, false); },
    configurable: true,
  });
}
