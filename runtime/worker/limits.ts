/**
 * The limits a worker checks while calls run: CPU time charged to each call, wall-clock deadlines of
 * waiting calls, heap limits a built-in outran, and the worker's resident ceiling.
 */
import type { PackageIsolate } from '../isolate.ts';
import { failAndReset } from './calls.ts';
import { RSS_LIMIT_BYTES, calls, cpuMeter } from './state.ts';
import type { CallRecord } from './state.ts';

let sampler: NodeJS.Timeout | null = null;

/** Samples CPU time and resident memory, and checks wall-clock deadlines, while calls run. */
export function ensureSampler(): void {
  if (sampler !== null) return;
  sampler = setInterval(() => {
    if (calls.size === 0) {
      if (sampler !== null) clearInterval(sampler);
      sampler = null;
      // Nothing keeps a disposed isolate reachable between bursts of calls.
      cpuMeter.sample([]);
      return;
    }
    const isolates = new Set<PackageIsolate>();
    for (const rec of calls.values()) if (rec.iso !== null && !rec.iso.isDisposed) isolates.add(rec.iso);
    cpuMeter.sample(isolates);
    const now = performance.now();
    for (const rec of [...calls.values()]) {
      if (rec.settled) continue;
      // The wall-clock limit of a call that is waiting (on the host, a timer, its isolate's creation): an
      // entry that runs is stopped at the same deadline by its own timeout. Checked here rather than by a
      // timer per call (arming and clearing one costs on every call); at most one period late.
      if (now >= rec.deadline) {
        failAndReset(rec, 'SANDBOX_TIMEOUT', 'the call exceeded its wall-clock limit');
        continue;
      }
      if (rec.iso === null) continue;
      // isolated-vm disposes an isolate past its heap limit at once, but a built-in that ignores the
      // termination keeps the entry from returning: the limit that fired is reported now.
      if (rec.iso.hitMemoryLimit()) {
        if (rec.iso.hasEntries(rec.id)) failAndReset(rec, 'SANDBOX_MEMORY_LIMIT', 'the call exceeded its memory limit');
        continue;
      }
      // Only the call whose entry is running is charged for the running time.
      if (rec.cpuUsed + cpuMeter.runningCpuMs(rec.iso, rec.id) > rec.limits.cpuMs + 50) {
        failAndReset(rec, 'SANDBOX_CPU_LIMIT', 'the call exceeded its CPU-time limit');
      }
    }
    if (process.memoryUsage.rss() > RSS_LIMIT_BYTES) disposeLargest();
  }, 20);
  sampler.unref();
}

/**
 * Disposes the isolate most likely to be growing: memory grows only while code runs, so a running isolate
 * (the one with the longest-running entry) is chosen first; the largest heap when none runs.
 */
export function disposeLargest(): void {
  let worst: CallRecord | null = null;
  let worstScore = -1;
  let running = false;
  for (const rec of calls.values()) {
    if (rec.iso === null || rec.settled) continue;
    const now = rec.iso.running();
    if (now !== null && now.callId === rec.id) {
      if (!running || now.cpuMs > worstScore) {
        worst = rec;
        worstScore = now.cpuMs;
      }
      running = true;
      continue;
    }
    const heap = running ? null : rec.iso.heapBytes();
    if (heap !== null && heap > worstScore) {
      worst = rec;
      worstScore = heap;
    }
  }
  if (worst !== null) failAndReset(worst, 'SANDBOX_MEMORY_LIMIT', 'the call exceeded the worker memory limit');
}
