// @ts-check
/** Bytes and UTF-8: bytes leave the isolate as ArrayBuffers that isolated-vm copies when the call is made (never a view, never shared). */
import {
  ArrayBufferByteLength, ArrayBufferC, ArrayBufferDetached, ArrayBufferIsView, ArrayBufferResizable, ArrayBufferSlice, ArrayJoin, ArrayPush, RangeErrorC, ReflectApply, StringC,
  StringCharCodeAt, StringFromCharCode, TypeErrorC, TypedArrayBuffer, TypedArrayByteLength, TypedArrayByteOffset,
  Uint8ArrayC, lower, syncOp,
} from './intrinsics.js';

/** @type {(u8: Uint8Array) => ArrayBuffer} */
export const bufOf = (u8) => ReflectApply(TypedArrayBuffer, u8, []);

/**
 * A copy of the bytes of an ArrayBuffer or a view, read once.
 * @param {unknown} data
 * @returns {Uint8Array}
 */
export function toBytes(data) {
  if (data instanceof ArrayBufferC) return new Uint8ArrayC(ReflectApply(ArrayBufferSlice, data, [0]));
  if (ArrayBufferIsView(data)) {
    const buf = ReflectApply(TypedArrayBuffer, data, []);
    const off = ReflectApply(TypedArrayByteOffset, data, []);
    const len = ReflectApply(TypedArrayByteLength, data, []);
    return new Uint8ArrayC(ReflectApply(ArrayBufferSlice, buf, [off, off + len]));
  }
  throw new TypeErrorC('expected an ArrayBuffer or a typed array');
}

/**
 * The bytes of an ArrayBuffer or a view as an ArrayBuffer for the worker, which receives a copy of it (a
 * Callback's ArrayBuffer argument is copied by isolated-vm when the call is made): the buffer itself when
 * it is a fixed-length ArrayBuffer, or a view of the whole of one (no second copy of a large input here);
 * otherwise a copy of the viewed bytes (toBytes).
 * @param {unknown} data
 * @returns {ArrayBuffer}
 */
export function bytesForWorker(data) {
  try {
    // Brand checks: the getters throw on anything that is not what they belong to (instanceof can be faked).
    if (ArrayBufferIsView(data)) {
      const buf = ReflectApply(TypedArrayBuffer, data, []);
      if (ReflectApply(TypedArrayByteOffset, data, []) === 0 && fixedLength(buf) && ReflectApply(TypedArrayByteLength, data, []) === ReflectApply(ArrayBufferByteLength, buf, [])) return buf;
    } else if (fixedLength(data)) {
      return /** @type {ArrayBuffer} */ (data);
    }
  } catch {
    // Not one of those (a DataView, a fake): toBytes below copies it or says why not.
  }
  return bufOf(toBytes(data));
}

/** @param {unknown} buf an ArrayBuffer (the getters throw otherwise) @returns {boolean} */
const fixedLength = (buf) => !ReflectApply(ArrayBufferResizable, buf, []) && !ReflectApply(ArrayBufferDetached, buf, []);

// Long strings are converted by the worker (native code, one copy each way); shorter ones here. A call to
// the worker is a synchronous round trip to its main thread, ~80–120 µs whatever the length; converting
// here costs ~7 µs for 600 bytes, ~35–50 µs for 4 KB and ~70 µs for 8 KB (issue 14: a fetched JSON body
// of a few hundred bytes paid the round trip).
const NATIVE_THRESHOLD = 4096;

/** @param {unknown} input @returns {Uint8Array} */
export function utf8Encode(input) {
  const str = StringC(input);
  if (str.length > NATIVE_THRESHOLD) return new Uint8ArrayC(syncOp('utf8encode', str, ''));
  /** @type {number[]} */
  const out = [];
  for (let i = 0; i < str.length; i++) {
    let c = ReflectApply(StringCharCodeAt, str, [i]);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
      const d = ReflectApply(StringCharCodeAt, str, [i + 1]);
      if (d >= 0xdc00 && d <= 0xdfff) { c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00); i++; }
      else c = 0xfffd;
    } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out[out.length] = c;
    else if (c < 0x800) { out[out.length] = 0xc0 | (c >> 6); out[out.length] = 0x80 | (c & 63); }
    else if (c < 0x10000) { out[out.length] = 0xe0 | (c >> 12); out[out.length] = 0x80 | ((c >> 6) & 63); out[out.length] = 0x80 | (c & 63); }
    else { out[out.length] = 0xf0 | (c >> 18); out[out.length] = 0x80 | ((c >> 12) & 63); out[out.length] = 0x80 | ((c >> 6) & 63); out[out.length] = 0x80 | (c & 63); }
  }
  return new Uint8ArrayC(out);
}

/**
 * The WHATWG Encoding standard's UTF-8 decoder (what Node's decoder does): one U+FFFD for each maximal
 * invalid subpart of a sequence, and the byte that ended it read again.
 * @param {Uint8Array} bytes @returns {string}
 */
export function utf8Decode(bytes) {
  if (bytes.length > NATIVE_THRESHOLD) return syncOp('utf8decode', bytesForWorker(bytes), '');
  /** @type {string[]} */
  const parts = [];
  let s = '';
  let cp = 0;
  let needed = 0;
  let seen = 0;
  let low = 0x80;
  let high = 0xbf;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    let c = -1;
    if (needed === 0) {
      if (b < 0x80) c = b;
      else if (b >= 0xc2 && b <= 0xdf) { needed = 1; cp = b & 0x1f; }
      else if (b >= 0xe0 && b <= 0xef) { if (b === 0xe0) low = 0xa0; if (b === 0xed) high = 0x9f; needed = 2; cp = b & 0xf; }
      else if (b >= 0xf0 && b <= 0xf4) { if (b === 0xf0) low = 0x90; if (b === 0xf4) high = 0x8f; needed = 3; cp = b & 0x7; }
      else c = 0xfffd;
    } else if (b < low || b > high) {
      cp = 0; needed = 0; seen = 0; low = 0x80; high = 0xbf;
      c = 0xfffd;
      i--;
    } else {
      low = 0x80; high = 0xbf;
      cp = (cp << 6) | (b & 0x3f);
      if (++seen === needed) { c = cp; cp = 0; needed = 0; seen = 0; }
    }
    if (c < 0) continue;
    if (c >= 0x10000) { c -= 0x10000; s += StringFromCharCode(0xd800 + (c >> 10), 0xdc00 + (c & 1023)); }
    else s += StringFromCharCode(c);
    if (s.length > 8192) { ReflectApply(ArrayPush, parts, [s]); s = ''; }
  }
  if (needed !== 0) s += StringFromCharCode(0xfffd);
  ReflectApply(ArrayPush, parts, [s]);
  return ReflectApply(ArrayJoin, parts, ['']);
}

export class TextEncoder {
  get encoding() { return 'utf-8'; }
  /** @param {string} [input] */
  encode(input = '') { return utf8Encode(input); }
}

export class TextDecoder {
  constructor(label = 'utf-8') {
    const l = lower(StringC(label));
    if (l !== 'utf-8' && l !== 'utf8') throw new RangeErrorC('only utf-8 is supported');
  }
  get encoding() { return 'utf-8'; }
  /** @param {ArrayBuffer | ArrayBufferView} [input] */
  decode(input) { return input === undefined ? '' : utf8Decode(toBytes(input)); }
}
