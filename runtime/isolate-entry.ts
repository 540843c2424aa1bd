/**
 * What an entry into an isolate is given and how it ends, without isolated-vm: the hooks and quotas a
 * call passes in, the heap and timeout arithmetic of runtime/isolate.ts, and the classification of an
 * entry's failure by what fired (never guessed from elapsed time). runtime/isolate.ts, the only file that
 * imports isolated-vm, uses these; nothing here touches an isolate.
 */

export interface IsolateHooks {
  /** A message posted by the bootstrap: only primitives reach here. */
  onPost(kind: string, callId: number, reqId: number, a: string, b: string, c: string | ArrayBuffer): void;
  /** isolated-vm lost control of the isolate: the process must end. */
  onCatastrophic(message: string): void;
}

export interface CallQuota {
  hostCalls: number;
  logBytes: number;
  outputBytes: number;
}

/**
 * Why an entry into the isolate failed, as reported by what fired (never guessed from elapsed time):
 * - 'timeout': isolated-vm's own timeout of the entry stopped it ("Script execution timed out."); the
 *   worker sets it to what is left of the call's wall-clock budget;
 * - 'memory': isolated-vm disposed the isolate because it passed its heap limit;
 * - 'disposed': the worker disposed the isolate (one of its own limits fired, or a reset);
 * - 'rejection': the code returned but left a rejected promise nobody handled (isolated-vm reports it as
 *   the entry's error). The entry itself completed; this is not a failure of the call.
 */
export type EntryFailure = 'timeout' | 'memory' | 'disposed' | 'rejection';

export class EntryError extends Error {
  readonly failure: EntryFailure;
  /** CPU time the failed entry used, ms. */
  readonly cpuMs: number;
  constructor(failure: EntryFailure, message: string, cpuMs = 0) {
    super(message);
    this.failure = failure;
    this.cpuMs = cpuMs;
  }
}

/** isolated-vm's message for an entry stopped by its `timeout` (src/isolate/run_with_timeout.h). */
const TIMED_OUT = 'Script execution timed out.';

/**
 * What fired when an entry threw `e`: the worker disposed the isolate (`disposedByUs`), isolated-vm did
 * (it does so by itself only when the isolate passes its memory limit), the entry's timeout, or else a
 * rejection nobody handled.
 */
export function entryFailureOf(e: unknown, disposedByUs: boolean, isolateDisposed: boolean): EntryFailure {
  if (disposedByUs) return 'disposed';
  if (isolateDisposed) return 'memory';
  if (e instanceof Error && e.message === TIMED_OUT) return 'timeout';
  return 'rejection';
}

/** An error's text for the worker's diagnostics only (host-side error text may carry host paths). */
export function describeFailure(e: unknown): string {
  return e instanceof Error ? e.message.slice(0, 300) : 'unknown failure';
}

/**
 * How an isolate's heap is sized for a package limited to `memoryMb` (MiB). isolated-vm sizes the young
 * generation from its memory limit alone (~1.5 MiB in all for 64 MiB, a 0.5 MiB semi-space), so a call that
 * allocates more than that collects garbage in the middle of its run, copying what it still uses each time
 * (a ~1 MB result cost ~8 ms in the isolate against ~5.7 with an 8 MiB semi-space). So:
 * - `semiSpaceMb`: the young generation's semi-space (V8's `--max-semi-space-size`, set just before the
 *   isolate is made): an eighth of the limit, from 1 to 16 MiB. V8 starts it small and grows it only for
 *   calls whose objects survive a collection.
 * - `limitMb`: isolated-vm's `memoryLimit`, the old generation. isolated-vm stops the isolate when its whole
 *   heap in use (both generations) and its external memory pass this limit plus the young generation's
 *   three semi-spaces (two, and as much again for large young objects); so that sum, the package's bound,
 *   stays `memoryMb`: the young generation is taken out of the old one's share. isolated-vm refuses less than 8.
 */
export function isolateHeapMb(memoryMb: number): { readonly limitMb: number; readonly semiSpaceMb: number } {
  const semiSpaceMb = Math.min(16, Math.max(1, Math.floor(memoryMb / 8)));
  return { limitMb: Math.max(8, memoryMb - 3 * semiSpaceMb), semiSpaceMb };
}

/** An entry's timeout for isolated-vm: a whole number of ms, at least 1 (0 would mean none). */
export function entryTimeoutMs(timeoutMs: number): number {
  return Math.max(1, Math.ceil(timeoutMs));
}

/** Heap in use, in bytes, from isolated-vm's heap statistics: the V8 heap and its external memory. */
export function heapInUse(stats: { readonly used_heap_size: number; readonly externally_allocated_size: number }): number {
  return stats.used_heap_size + stats.externally_allocated_size;
}
