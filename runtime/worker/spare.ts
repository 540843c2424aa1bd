/**
 * When a worker prepares its next spare isolate (runtime/worker/main.ts, issue 14's cold call). Preparing
 * one blocks the worker's main thread for about a millisecond (the new isolate) and then keeps an
 * isolated-vm thread busy for a few more: done while a call runs, it makes that call share the worker, and
 * on a small machine the cores. So the spare taken by a package's first call is replaced once the worker
 * is idle (no call running, none started or finished for SPARE_IDLE_MS: the calls that often follow a
 * first call at once go first), and SPARE_REFILL_MS after it was taken at the latest.
 */

export const SPARE_IDLE_MS = 2;
export const SPARE_REFILL_MS = 100;

/**
 * How long to wait before preparing the owed spare, ms; 0: now.
 * @param now performance.now()
 * @param lastCallAt when a call was last seen running (started, its first entry returned, or still running)
 * @param running calls in progress in the worker
 * @param by the latest time to start (the spare's taking + SPARE_REFILL_MS)
 */
export function spareRefillWait(now: number, lastCallAt: number, running: number, by: number): number {
  if (now >= by) return 0;
  const idleAt = running > 0 ? now + SPARE_IDLE_MS : lastCallAt + SPARE_IDLE_MS;
  return Math.max(0, Math.min(idleAt, by) - now);
}
