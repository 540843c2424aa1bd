// @ts-check
/* global crypto, queueMicrotask -- the sandbox's globals (types/tool-api.d.ts) */
/** node:crypto for a wrapped server: random bytes and UUIDs from the sandbox, hashes and HMACs (hash.js); ciphers, signatures and key derivation are unsupported. */
import { Buffer } from './buffer.js';
import { unsupported } from './unsupported.js';
import { createHash, createHmac, getHashes } from './hash.js';

export { createHash, createHmac, getHashes };

/** @param {number} n @param {(err: Error | null, buf: Buffer) => void} [cb] */
export function randomBytes(n, cb) {
  const b = Buffer.alloc(n);
  for (let at = 0; at < n; at += 65536) crypto.getRandomValues(b.subarray(at, Math.min(n, at + 65536)));
  if (cb) { queueMicrotask(() => cb(null, b)); return b; }
  return b;
}
export function randomUUID() { return crypto.randomUUID(); }
/** @param {number} min @param {number} [max] */
export function randomInt(min, max) {
  const lo = max === undefined ? 0 : min;
  const hi = max === undefined ? min : max;
  const u = new Uint32Array(1);
  crypto.getRandomValues(u);
  return lo + ((u[0] ?? 0) % (hi - lo));
}
/** @template {ArrayBufferView} T @param {T} a */
export function getRandomValues(a) { return crypto.getRandomValues(a); }
/** @param {ArrayBufferView} a @param {ArrayBufferView} b */
export function timingSafeEqual(a, b) {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  if (x.length !== y.length) throw new RangeError('Input buffers must have the same byte length');
  let d = 0;
  for (let i = 0; i < x.length; i++) d |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return d === 0;
}
export const webcrypto = crypto;
export const createCipheriv = unsupported('unsupported-api:node:crypto.createCipheriv');
export const createDecipheriv = unsupported('unsupported-api:node:crypto.createDecipheriv');
export const createSign = unsupported('unsupported-api:node:crypto.createSign');
export const createVerify = unsupported('unsupported-api:node:crypto.createVerify');
export const pbkdf2Sync = unsupported('unsupported-api:node:crypto.pbkdf2Sync');
export default { randomBytes, randomUUID, randomInt, getRandomValues, timingSafeEqual, webcrypto, createHash, createHmac, getHashes, createCipheriv, createDecipheriv, createSign, createVerify, pbkdf2Sync };
