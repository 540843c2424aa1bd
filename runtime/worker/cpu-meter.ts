/**
 * The CPU time of the entry running in each isolate, measured so that a loaded machine does not inflate it.
 *
 * isolated-vm reports an isolate's CPU time exactly (CLOCK_THREAD_CPUTIME_ID) for every stretch of code
 * that has ended: an entry, or the part of one before a callback into the worker. For the stretch still
 * running it adds the wall time since the stretch began (src/isolate/executor.cc, CpuTimer::Delta), which
 * other processes on the machine stretch. So while an entry runs, its CPU time is estimated from what
 * this process's own threads used (process.cpuUsage() less the main thread's): that total is shared among
 * the isolates running at the time in proportion to their elapsed running time, and never more than it.
 * Once the entry ends, the exact figure replaces the estimate (see PackageIsolate.#enter).
 */

export interface Runnable {
  /** The entry running now: its call, its number, and its running time as isolated-vm reports it, ms. */
  running(): { callId: number; seq: number; cpuMs: number } | null;
}

interface Estimate {
  seq: number;
  raw: number;
  cpuMs: number;
}

export class CpuMeter<I extends Runnable> {
  readonly #estimates = new Map<I, Estimate>();
  #lastOther = otherThreadsCpuMs();

  /** Advances the estimates of the isolates given (those with calls); forgets the others. */
  sample(isolates: Iterable<I>): void {
    const other = otherThreadsCpuMs();
    const spent = Math.max(0, other - this.#lastOther);
    this.#lastOther = other;
    const live = new Set<I>();
    const grew: { e: Estimate; by: number }[] = [];
    let total = 0;
    for (const iso of isolates) {
      const now = iso.running();
      if (now === null) continue;
      live.add(iso);
      let e = this.#estimates.get(iso);
      if (e === undefined || e.seq !== now.seq) {
        e = { seq: now.seq, raw: 0, cpuMs: 0 };
        this.#estimates.set(iso, e);
      }
      const by = Math.max(0, now.cpuMs - e.raw);
      e.raw = now.cpuMs;
      grew.push({ e, by });
      total += by;
    }
    for (const { e, by } of grew) if (total > 0) e.cpuMs += Math.min(by, (spent * by) / total);
    for (const iso of this.#estimates.keys()) if (!live.has(iso)) this.#estimates.delete(iso);
  }

  /** Estimated CPU time of the entry running in `iso` for `callId`, ms (0 if another runs). */
  runningCpuMs(iso: I, callId: number): number {
    const now = iso.running();
    const e = this.#estimates.get(iso);
    return now === null || e === undefined || now.callId !== callId || now.seq !== e.seq ? 0 : e.cpuMs;
  }
}

function otherThreadsCpuMs(): number {
  const all = process.cpuUsage();
  const main = process.threadCpuUsage();
  return (all.user + all.system - main.user - main.system) / 1000;
}
