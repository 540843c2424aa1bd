// @ts-check
/** node:events for a wrapped server: a plain EventEmitter (no domains, no capture of rejections). */

export class EventEmitter {
  constructor() {
    /** @type {Map<string | symbol, Array<(...args: any[]) => unknown>>} */
    this._events = new Map();
    this._max = 10;
  }
  /** @param {string | symbol} type @param {(...args: any[]) => unknown} fn */
  on(type, fn) {
    const list = this._events.get(type) ?? [];
    list.push(fn);
    this._events.set(type, list);
    return this;
  }
  /** @param {string | symbol} type @param {(...args: any[]) => unknown} fn */
  addListener(type, fn) { return this.on(type, fn); }
  /** @param {string | symbol} type @param {(...args: any[]) => unknown} fn */
  prependListener(type, fn) {
    const list = this._events.get(type) ?? [];
    list.unshift(fn);
    this._events.set(type, list);
    return this;
  }
  /** @param {string | symbol} type @param {(...args: any[]) => unknown} fn */
  once(type, fn) {
    /** @param {...unknown} args */
    const once = (...args) => { this.off(type, once); return fn.apply(this, args); };
    /** @type {any} */ (once).listener = fn;
    return this.on(type, once);
  }
  /** @param {string | symbol} type @param {(...args: any[]) => unknown} fn */
  off(type, fn) {
    const list = this._events.get(type);
    if (!list) return this;
    const i = list.findIndex((l) => l === fn || /** @type {any} */ (l).listener === fn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this._events.delete(type);
    return this;
  }
  /** @param {string | symbol} type @param {(...args: any[]) => unknown} fn */
  removeListener(type, fn) { return this.off(type, fn); }
  /** @param {string | symbol} [type] */
  removeAllListeners(type) {
    if (type === undefined) this._events.clear();
    else this._events.delete(type);
    return this;
  }
  /** @param {string | symbol} type @param {...unknown} args */
  emit(type, ...args) {
    const list = this._events.get(type);
    if (!list || list.length === 0) {
      if (type === 'error') throw args[0] instanceof Error ? args[0] : new Error('Unhandled error event');
      return false;
    }
    for (const fn of [...list]) fn.apply(this, args);
    return true;
  }
  /** @param {string | symbol} type */
  listenerCount(type) { return this._events.get(type)?.length ?? 0; }
  /** @param {string | symbol} type */
  listeners(type) { return [...(this._events.get(type) ?? [])]; }
  eventNames() { return [...this._events.keys()]; }
  /** @param {number} n */
  setMaxListeners(n) { this._max = n; return this; }
  getMaxListeners() { return this._max; }
}

/** @param {EventEmitter} emitter @param {string} type */
export function once(emitter, type) {
  return new Promise((resolve) => emitter.once(type, (...args) => resolve(args)));
}

export const defaultMaxListeners = 10;
/** @param {number} _n */
export function setMaxListeners(_n) {}

/** @type {typeof EventEmitter & { EventEmitter: typeof EventEmitter, once: typeof once, defaultMaxListeners: number, setMaxListeners: typeof setMaxListeners }} */
const events = /** @type {any} */ (EventEmitter);
events.EventEmitter = EventEmitter;
events.once = once;
events.defaultMaxListeners = 10;
events.setMaxListeners = setMaxListeners;
export default events;
