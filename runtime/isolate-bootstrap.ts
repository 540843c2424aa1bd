/**
 * The bootstrap as isolated-vm compiles it, and the bookkeeping of its V8 code cache, without isolated-vm:
 * the source of the factory function runtime/isolate.ts compiles in every new isolate, and the one cache
 * of it this process keeps (made by the first isolate prepared, used by the next ones).
 *
 * V8 checks a cache against the source and its own version and flags, and compiles from the source when it
 * does not match; a rejected cache is dropped here and made again by the next compile.
 */
import { bootstrapSource } from './worker/bootstrap-source.ts';

let factorySource: string | null = null;

/** The bootstrap as a function of its three Callbacks ($0, $1, $2), opening on the bootstrap's first line. */
export function bootstrapFactorySource(): string {
  factorySource ??= `(function ($0, $1, $2) {${bootstrapSource()}\n})`;
  return factorySource;
}

/**
 * The process's code cache of one script. `T` is isolated-vm's cache object (runtime/isolate.ts names it):
 * this module only keeps it.
 */
export class CodeCache<T> {
  #data: T | null = null;

  /** The cache to compile with, or null: then the compile should produce one. */
  current(): T | null {
    return this.#data;
  }

  /**
   * Records how a compile went: `used` is what `current()` gave it, `produced` the cache it made (when
   * `used` was null), `rejected` whether V8 refused `used`. Returns whether the compile used the cache.
   */
  settle(used: T | null, produced: T | undefined, rejected: boolean): boolean {
    if (used === null && produced !== undefined) this.#data = produced;
    // Dropped only if no other compile replaced it meanwhile.
    if (used !== null && rejected && this.#data === used) this.#data = null;
    return used !== null && !rejected;
  }
}
