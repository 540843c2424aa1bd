// @ts-check
/** crypto: random values and digests computed by the worker, returned as copies. */
import {
  ArrayBufferC, ArrayBufferIsView, ObjectFreeze, PromiseReject, PromiseResolve, RangeErrorC, ReflectApply, StringC,
  TypeErrorC, TypedArrayBuffer, TypedArrayByteLength, TypedArrayByteOffset, Uint8ArrayC, syncOp,
} from './intrinsics.js';
import { bytesForWorker } from './text.js';

export const crypto = ObjectFreeze({
  /**
   * @template {ArrayBufferView} T
   * @param {T} array
   * @returns {T}
   */
  getRandomValues(array) {
    if (!ArrayBufferIsView(array)) throw new TypeErrorC('expected an integer typed array');
    const len = ReflectApply(TypedArrayByteLength, array, []);
    if (len > 65536) throw new RangeErrorC('getRandomValues: at most 65536 bytes');
    const src = new Uint8ArrayC(syncOp('random', len, ''));
    const dst = new Uint8ArrayC(ReflectApply(TypedArrayBuffer, array, []), ReflectApply(TypedArrayByteOffset, array, []), len);
    for (let i = 0; i < len; i++) dst[i] = src[i];
    return array;
  },
  randomUUID() {
    const b = new Uint8ArrayC(syncOp('random', 16, ''));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = '';
    for (let i = 0; i < 16; i++) { h += (b[i] + 0x100).toString(16).slice(1); if (i === 3 || i === 5 || i === 7 || i === 9) h += '-'; }
    return h;
  },
  subtle: ObjectFreeze({
    /**
     * @param {string | { name: string }} algorithm
     * @param {ArrayBuffer | ArrayBufferView} data
     * @returns {Promise<ArrayBuffer>}
     */
    digest(algorithm, data) {
      try {
        const name = typeof algorithm === 'string' ? algorithm : algorithm && algorithm.name;
        const out = syncOp('digest', StringC(name), bytesForWorker(data));
        if (!(out instanceof ArrayBufferC)) throw new TypeErrorC('unsupported digest algorithm');
        return PromiseResolve(out);
      } catch (e) {
        return PromiseReject(e);
      }
    },
  }),
});
