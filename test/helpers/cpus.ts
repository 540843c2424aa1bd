/** What /proc says about the CPUs processes may run on (Linux), for the tests of worker CPU binding. */
import { readFileSync, readdirSync } from 'node:fs';
import { allowedCpus } from '../../runtime/pool/cpu-binding.ts';

/** The CPUs each thread of a process may run on (a thread that ended meanwhile is left out). */
export function threadCpus(pid: number): number[][] {
  return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
    try {
      return [allowedCpus(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))];
    } catch {
      return [];
    }
  });
}

/** The CPUs this test process may run on; empty off Linux. */
export const OUR_CPUS: readonly number[] = process.platform === 'linux' ? allowedCpus(readFileSync('/proc/self/status', 'utf8')) : [];
