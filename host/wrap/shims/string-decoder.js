// @ts-check
/* global TextDecoder -- the sandbox's globals (types/tool-api.d.ts) */
/** node:string_decoder for a wrapped server (UTF-8 only, over TextDecoder's stream mode). */
import { Buffer } from './buffer.js';

export class StringDecoder {
  /** @param {string} [encoding] */
  constructor(encoding) {
    this.encoding = encoding ?? 'utf8';
    this._utf8 = this.encoding.toLowerCase() === 'utf8' || this.encoding.toLowerCase() === 'utf-8';
    this._decoder = new TextDecoder();
    /** @type {Uint8Array} */
    this._rest = new Uint8Array(0);
  }
  /** @param {Uint8Array} chunk */
  write(chunk) {
    if (!this._utf8) return Buffer.from(chunk).toString(this.encoding);
    const all = new Uint8Array(this._rest.length + chunk.length);
    all.set(this._rest);
    all.set(chunk, this._rest.length);
    // Keep an incomplete UTF-8 sequence at the end for the next chunk.
    let cut = all.length;
    for (let i = Math.max(0, all.length - 3); i < all.length; i++) {
      const b = all[i] ?? 0;
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
      if (need > 0 && i + need > all.length) { cut = i; break; }
    }
    this._rest = all.slice(cut);
    return this._decoder.decode(all.subarray(0, cut));
  }
  /** @param {Uint8Array} [chunk] */
  end(chunk) {
    const s = chunk ? this.write(chunk) : '';
    const rest = this._rest.length > 0 ? this._decoder.decode(this._rest) : '';
    this._rest = new Uint8Array(0);
    return s + rest;
  }
}
export default { StringDecoder };
