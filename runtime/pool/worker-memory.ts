/**
 * The memory arithmetic of the worker pool: the resident-memory ceiling a worker is given from the heap
 * limits of the packages it hosts, the line past it where the host kills the worker, the line where a
 * worker that hit a limit is recycled, and whom a kill for memory blames. Pure: the supervisor and the
 * scheduler measure; this decides.
 */
import type { Verdict, Worker } from './worker.ts';

/** Resident memory of a worker hosting nothing yet: node, isolated-vm and the worker's own heap, MiB. */
export const WORKER_BASE_MB = 128;
/** How far an isolate's resident memory may pass its heap limit (isolated-vm: an attacker can reach 2–3×). */
export const MEMORY_FACTOR = 3;
/** A worker started before it hosts anything (prewarmed) is sized for one package of the default limit. */
export const DEFAULT_PACKAGE_MB = 64;
/** Ceilings are rounded up to this step, so that placing another package rarely needs a new process. */
const CEILING_STEP_MB = 128;

const MIB = 1024 * 1024;

/**
 * The resident-memory ceiling of a worker hosting packages with these heap limits (MiB): every heap full
 * at once, plus the overshoot of the largest, rounded up to a step; at most `capMb`.
 */
export function workerCeilingMb(memoryMbs: Iterable<number>, capMb: number): number {
  let sum = 0;
  let max = 0;
  for (const mb of memoryMbs) {
    sum += mb;
    max = Math.max(max, mb);
  }
  if (sum === 0) sum = max = DEFAULT_PACKAGE_MB;
  const need = WORKER_BASE_MB + sum + (MEMORY_FACTOR - 1) * max;
  return Math.min(capMb, Math.ceil(need / CEILING_STEP_MB) * CEILING_STEP_MB);
}

/** The worker trims its own largest isolate at its ceiling; half again above it, the host kills it. */
export function overKillLine(rssBytes: number, ceilingMb: number): boolean {
  return rssBytes > ceilingMb * 1.5 * MIB;
}

/** After a limit other than a memory one, a worker still above half its ceiling is recycled. */
export function overHalfCeiling(rssBytes: number, ceilingMb: number): boolean {
  return rssBytes > (ceilingMb * MIB) / 2;
}

/** Bytes as whole MiB, for diagnostics. */
export function inMiB(bytes: number): number {
  return Math.round(bytes / 1048576);
}

/**
 * A worker over its memory ceiling is blamed on a package only when that package alone has calls in it:
 * idle isolates do not grow, so the memory came from the one running. Otherwise nobody is blamed.
 */
export function memoryVerdict(worker: Pick<Worker, 'calls'>): Verdict {
  const pkgs = new Set(worker.calls.values());
  if (pkgs.size !== 1) return { kind: 'crashed' };
  const [pkg] = pkgs;
  return { kind: 'culprit', pkg: pkg as string, call: null, code: 'SANDBOX_MEMORY_LIMIT', message: 'the call exceeded the worker memory limit' };
}
