// @ts-check
/** Node's globals a wrapped server may use, injected by esbuild where the bundle names them (host/wrap/bundle.ts). */
import processShim from './process.js';
import { Buffer as BufferShim, atob as atobShim, btoa as btoaShim } from './buffer.js';
import { setImmediate as setImmediateShim, clearImmediate as clearImmediateShim } from './timers.js';
import { AbortController as AbortControllerShim, AbortSignal as AbortSignalShim } from './abort.js';

export {
  processShim as process, BufferShim as Buffer, setImmediateShim as setImmediate, clearImmediateShim as clearImmediate,
  AbortControllerShim as AbortController, AbortSignalShim as AbortSignal, atobShim as atob, btoaShim as btoa,
};
