// @ts-check
/**
 * node:crypto's createHash and createHmac for a wrapped server, over @noble/hashes (audited, pure
 * JavaScript, bundled into the server by wrap): the digests Node computes, with Node's streaming API
 * (update with an input encoding, digest with an output encoding, copy). No key material leaves the
 * isolate and nothing here reaches the host.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { Buffer } from './buffer.js';

/** @type {Record<string, import('@noble/hashes/utils.js').CHash>} */
const ALGORITHMS = { md5, sha1, sha224, sha256, sha384, sha512, 'sha-1': sha1, 'sha-224': sha224, 'sha-256': sha256, 'sha-384': sha384, 'sha-512': sha512 };

/** @param {string} algorithm */
function hashOf(algorithm) {
  const h = ALGORITHMS[String(algorithm).toLowerCase()];
  if (h === undefined) throw Object.assign(new Error(`Digest method not supported: ${String(algorithm).slice(0, 40)}`), { code: 'ERR_CRYPTO_INVALID_DIGEST' });
  return h;
}

/** @param {unknown} data @param {string} [encoding] @returns {Uint8Array} */
function bytesOf(data, encoding) {
  if (typeof data === 'string') return Buffer.from(data, encoding ?? 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView.');
}

/** Node's Hash/Hmac object over one incremental noble hash. */
class Digest {
  /** @param {{ update(b: Uint8Array): unknown; digest(): Uint8Array; clone(): any }} state */
  constructor(state) {
    this._state = state;
    this._done = false;
  }

  /** @param {unknown} data @param {string} [encoding] */
  update(data, encoding) {
    if (this._done) throw Object.assign(new Error('Digest already called'), { code: 'ERR_CRYPTO_HASH_FINALIZED' });
    this._state.update(bytesOf(data, encoding));
    return this;
  }

  /** @param {string} [encoding] @returns {any} */
  digest(encoding) {
    if (this._done) throw Object.assign(new Error('Digest already called'), { code: 'ERR_CRYPTO_HASH_FINALIZED' });
    this._done = true;
    const out = Buffer.from(this._state.digest());
    return encoding === undefined || encoding === 'buffer' ? out : out.toString(encoding);
  }

  copy() {
    if (this._done) throw Object.assign(new Error('Digest already called'), { code: 'ERR_CRYPTO_HASH_FINALIZED' });
    return new Digest(this._state.clone());
  }
}

/** @param {string} algorithm */
export function createHash(algorithm) {
  return new Digest(hashOf(algorithm).create());
}

/** @param {string} algorithm @param {unknown} key */
export function createHmac(algorithm, key) {
  return new Digest(hmac.create(hashOf(algorithm), bytesOf(key)));
}

/** The names createHash accepts, as node:crypto.getHashes lists them. */
export function getHashes() {
  return ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];
}
