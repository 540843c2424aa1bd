// @ts-check
/* global setTimeout -- the sandbox's globals (types/tool-api.d.ts) */
/** AbortController and AbortSignal for a wrapped server (the MCP SDK makes one per request); globals via esbuild's inject. */
import { EventEmitter } from './events.js';

export class AbortSignal extends EventEmitter {
  constructor() {
    super();
    this.aborted = false;
    /** @type {unknown} */
    this.reason = undefined;
    /** @type {((ev: { type: string }) => void) | null} */
    this.onabort = null;
  }
  /** @param {string} type @param {(ev: { type: string }) => void} fn */
  addEventListener(type, fn) { this.on(type, fn); }
  /** @param {string} type @param {(ev: { type: string }) => void} fn */
  removeEventListener(type, fn) { this.off(type, fn); }
  throwIfAborted() { if (this.aborted) throw this.reason; }
  /** @param {unknown} [reason] */
  static abort(reason) { const c = new AbortController(); c.abort(reason); return c.signal; }
  /** @param {number} ms */
  static timeout(ms) { const c = new AbortController(); setTimeout(() => c.abort(new Error('The operation timed out')), ms); return c.signal; }
}

export class AbortController {
  constructor() { this.signal = new AbortSignal(); }
  /** @param {unknown} [reason] */
  abort(reason) {
    const s = this.signal;
    if (s.aborted) return;
    s.aborted = true;
    s.reason = reason ?? new Error('This operation was aborted');
    const ev = { type: 'abort' };
    if (s.onabort) s.onabort(ev);
    s.emit('abort', ev);
  }
}
