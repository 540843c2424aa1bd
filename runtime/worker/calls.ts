/**
 * How a worker's calls end: settled (result sent), failed with the code of what stopped them, and the
 * package's isolate reset when a limit was hit (an isolate that hit a limit is never reused).
 */
import type { PackageIsolate } from '../isolate.ts';
import { calls, packages, send } from './state.ts';
import type { CallRecord } from './state.ts';

export function settle(rec: CallRecord): void {
  rec.settled = true;
  for (const t of rec.timers) clearTimeout(t);
  rec.timers.clear();
  calls.delete(rec.id);
  if (rec.fresh && rec.iso !== null) rec.iso.dispose();
}

export function fail(rec: CallRecord, code: string, message: string): void {
  if (rec.settled) return;
  settle(rec);
  send({ t: 'err', call: rec.id, code, message });
}

/** Fails the call and disposes its isolate: an isolate that hit a limit is never reused. */
export function failAndReset(rec: CallRecord, code: string, message: string): void {
  if (rec.settled) return;
  fail(rec, code, message);
  resetPackage(rec.pkg, 'ISOLATE_RESET', 'the isolate was reset because another call of the same package hit a limit', rec.iso);
}

export function resetPackage(pkg: string, code: string, message: string, only: PackageIsolate | null = null): void {
  for (const other of [...calls.values()]) {
    if (other.pkg !== pkg || other.settled) continue;
    if (only !== null && other.iso !== only) continue;
    fail(other, code, message);
  }
  const state = packages.get(pkg);
  if (only !== null) {
    only.dispose();
    // Nothing keeps a disposed isolate reachable.
    if (state !== undefined && state.ready === only) {
      state.ready = undefined;
      state.isolate = undefined;
    }
    return;
  }
  if (state?.isolate !== undefined) void state.isolate.then((iso) => iso.dispose(), () => undefined);
  if (state !== undefined) {
    state.isolate = undefined;
    state.ready = undefined;
  }
}

/**
 * The timeout of an entry: what is left of the call's wall-clock budget. isolated-vm measures it on the
 * isolate's own thread from the moment the entry starts running (time queued behind another entry of the
 * same isolate is not counted), and it fires as "Script execution timed out.": SANDBOX_TIMEOUT. CPU time
 * is not limited by it but by the sampler below, from the isolate's measured CPU time, so a loaded machine
 * stretches neither into the other.
 */
export function remainingWall(rec: CallRecord): number {
  return Math.max(1, rec.deadline - performance.now());
}
