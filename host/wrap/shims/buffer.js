// @ts-check
/* global TextDecoder, TextEncoder -- the sandbox's globals (types/tool-api.d.ts) */
/** node:buffer for a wrapped server: a Uint8Array with Node's common encodings (utf8, hex, base64, latin1). */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** @param {string} s @returns {Uint8Array} */
function fromBase64(s) {
  const clean = s.replace(/[^A-Za-z0-9+/_-]/g, '').replace(/-/g, '+').replace(/_/g, '/');
  const out = [];
  let bits = 0;
  let acc = 0;
  for (const c of clean) {
    acc = (acc << 6) | B64.indexOf(c);
    bits += 6;
    if (bits >= 8) { bits -= 8; out.push((acc >> bits) & 0xff); }
  }
  return Uint8Array.from(out);
}

/** @param {Uint8Array} b @param {boolean} url */
function toBase64(b, url) {
  let s = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = ((b[i] ?? 0) << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    s += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < b.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < b.length ? B64[n & 63] : '=');
  }
  return url ? s.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : s;
}

/** @param {string} s @param {string} [enc] @returns {Uint8Array} */
function encode(s, enc) {
  switch ((enc ?? 'utf8').toLowerCase()) {
    case 'hex': {
      const out = new Uint8Array(s.length >> 1);
      for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
      return out;
    }
    case 'base64': case 'base64url': return fromBase64(s);
    case 'latin1': case 'binary': case 'ascii': return Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
    default: return new TextEncoder().encode(s);
  }
}

export class Buffer extends Uint8Array {
  /** @param {unknown} value @param {unknown} [encOrOffset] @param {number} [length] */
  static from(value, encOrOffset, length) {
    if (typeof value === 'string') return Buffer._wrap(encode(value, typeof encOrOffset === 'string' ? encOrOffset : undefined));
    if (value instanceof ArrayBuffer) return new Buffer(value, typeof encOrOffset === 'number' ? encOrOffset : 0, length ?? value.byteLength - (typeof encOrOffset === 'number' ? encOrOffset : 0));
    if (ArrayBuffer.isView(value)) return Buffer._wrap(new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength)));
    if (Array.isArray(value)) return Buffer._wrap(Uint8Array.from(value));
    throw new TypeError('Buffer.from: unsupported value');
  }
  /** @param {Uint8Array} u */
  static _wrap(u) { return new Buffer(/** @type {ArrayBuffer} */ (u.buffer), u.byteOffset, u.byteLength); }
  /** @param {number} n @param {number | string} [fill] */
  static alloc(n, fill) {
    const b = new Buffer(n);
    if (typeof fill === 'number') b.fill(fill);
    else if (typeof fill === 'string' && fill !== '') { const f = encode(fill); for (let i = 0; i < n; i++) b[i] = f[i % f.length] ?? 0; }
    return b;
  }
  /** @param {number} n */
  static allocUnsafe(n) { return new Buffer(n); }
  /** @param {unknown} b */
  static isBuffer(b) { return b instanceof Buffer; }
  /** @param {string} enc */
  static isEncoding(enc) { return ['utf8', 'utf-8', 'hex', 'base64', 'base64url', 'latin1', 'binary', 'ascii'].includes(String(enc).toLowerCase()); }
  /** @param {unknown} v @param {string} [enc] */
  static byteLength(v, enc) { return typeof v === 'string' ? encode(v, enc).length : /** @type {ArrayBufferView} */ (v).byteLength; }
  /** @param {readonly Uint8Array[]} list @param {number} [total] */
  static concat(list, total) {
    const n = total ?? list.reduce((a, b) => a + b.length, 0);
    const out = new Buffer(n);
    let at = 0;
    for (const b of list) { if (at >= n) break; out.set(b.subarray(0, n - at), at); at += b.length; }
    return out;
  }
  /** @param {Uint8Array} a @param {Uint8Array} b */
  static compare(a, b) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] ?? 0) < (b[i] ?? 0) ? -1 : 1;
    return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
  }
  /** @param {string} [enc] @param {number} [start] @param {number} [end] */
  toString(enc, start, end) {
    const b = this.subarray(start ?? 0, end ?? this.length);
    switch ((enc ?? 'utf8').toLowerCase()) {
      case 'hex': return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
      case 'base64': return toBase64(b, false);
      case 'base64url': return toBase64(b, true);
      case 'latin1': case 'binary': case 'ascii': return Array.from(b, (x) => String.fromCharCode(x)).join('');
      default: return new TextDecoder().decode(b);
    }
  }
  toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
  /** @param {Uint8Array} other */
  equals(other) { return Buffer.compare(this, other) === 0; }
  /** @param {number} [start] @param {number} [end] */
  slice(start, end) { const s = this.subarray(start, end); return new Buffer(s.buffer, s.byteOffset, s.byteLength); }
  /** @param {string} s @param {number} [offset] */
  write(s, offset) { const e = encode(s); this.set(e.subarray(0, this.length - (offset ?? 0)), offset ?? 0); return Math.min(e.length, this.length - (offset ?? 0)); }
}

/** The web's base64 decoding of a latin1 string (injected as a global; zod checks base64 with it). @param {string} s */
export function atob(s) {
  const clean = String(s).replace(/[\t\n\f\r ]/g, '');
  if (clean.length % 4 === 1 || /[^A-Za-z0-9+/=]/.test(clean) || /=[^=]/.test(clean)) {
    throw Object.assign(new Error('The string to be decoded is not correctly encoded.'), { name: 'InvalidCharacterError' });
  }
  return Buffer.from(clean, 'base64').toString('latin1');
}
/** The web's base64 encoding of a latin1 string. @param {string} s */
export function btoa(s) {
  const str = String(s);
  for (let i = 0; i < str.length; i++) if (str.charCodeAt(i) > 255) throw Object.assign(new Error('Invalid character'), { name: 'InvalidCharacterError' });
  return Buffer.from(str, 'latin1').toString('base64');
}

export const constants = { MAX_LENGTH: 2 ** 31 - 1 };
export const kMaxLength = constants.MAX_LENGTH;
export default { Buffer, constants, kMaxLength, atob, btoa };
