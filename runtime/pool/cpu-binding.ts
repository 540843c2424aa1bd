/**
 * Each sandbox worker process bound to one CPU (Linux). A call through a worker hands over between the
 * worker's main thread and the isolated-vm thread that runs the package: the entry, every synchronous
 * helper the package calls (`TextEncoder`, `crypto.subtle`, a `ctx.fetch` request), the outcome. When the
 * two threads sit on different CPUs, each hand-over wakes an idle CPU, which on a virtual machine costs
 * ~35–45 µs more than a switch on one (docs/performance-history.md, *Ninth pass*). Bound to one CPU, a worker's
 * threads hand over cheaply, different workers (on different CPUs) still run in parallel, and the host
 * process stays free to go wherever the system puts it.
 *
 * Node has no call for a process's CPU affinity: the worker is started through util-linux's `taskset`, from a
 * fixed system path (never looked up in PATH). Where it is missing, on other systems, or where fewer than
 * two CPUs are allowed, workers start unbound.
 */
import { accessSync, constants, readFileSync } from 'node:fs';

/** Where `taskset` is looked for, in order. */
export const TASKSET_PATHS: readonly string[] = ['/usr/bin/taskset', '/bin/taskset'];

/** How workers are bound: the program that binds, the CPUs this process may use, and where slot 0 goes. */
export interface CpuBinding {
  readonly taskset: string;
  readonly cpus: readonly number[];
  /** Index into `cpus` of slot 0's CPU (spreads the workers of several hosts on one machine). */
  readonly offset: number;
}

/** One worker's binding: the program that binds, and the CPU. */
export interface CpuPin {
  readonly taskset: string;
  readonly cpu: number;
}

/** A kernel CPU list ("0-3,8,10-11") as CPU numbers, ascending; empty when malformed. Pure. */
export function parseCpuList(list: string): number[] {
  const cpus = new Set<number>();
  for (const part of list.trim().split(',')) {
    const m = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part);
    if (m === null) return [];
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) return [];
    for (let c = from; c <= to; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** The CPUs a process may run on, from the text of its /proc/PID/status; empty when it does not say. Pure. */
export function allowedCpus(status: string): number[] {
  const line = /^Cpus_allowed_list:\s*(\S+)\s*$/m.exec(status);
  return line === null ? [] : parseCpuList(line[1] as string);
}

/** The CPU of worker slot `slot`: the slots go round the allowed CPUs from the binding's offset. Pure. */
export function cpuFor(binding: CpuBinding, slot: number): number {
  return binding.cpus[(binding.offset + slot) % binding.cpus.length] as number;
}

/** The binding of worker slot `slot` (cpuFor). Pure. */
export function pinFor(binding: CpuBinding, slot: number): CpuPin {
  return { taskset: binding.taskset, cpu: cpuFor(binding, slot) };
}

/**
 * How this process's workers can be bound, or null (not Linux, no `taskset` at a system path, fewer than
 * two CPUs allowed). `offset` defaults to one from the process id, so that the workers of several hosts
 * do not all start on the same CPU.
 */
export function detectCpuBinding(offset: number = process.pid): CpuBinding | null {
  if (process.platform !== 'linux') return null;
  const taskset = TASKSET_PATHS.find(executable);
  if (taskset === undefined) return null;
  let cpus: number[];
  try {
    cpus = allowedCpus(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return null;
  }
  if (cpus.length < 2) return null;
  return { taskset, cpus, offset: offset % cpus.length };
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
