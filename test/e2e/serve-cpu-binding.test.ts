/**
 * `serve` binds each sandbox worker to one CPU where the system allows it (runtime/pool/cpu-binding.ts), and
 * `--no-cpu-binding` leaves them unbound: read from /proc, for the workers of a real serve.
 */
import { readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectCpuBinding } from '../../runtime/pool/cpu-binding.ts';
import { OUR_CPUS, threadCpus } from '../helpers/cpus.ts';
import { EXAMPLES, startHost } from '../helpers/host.ts';

const NODE = realpathSync(process.execPath);

/**
 * The CPUs each thread of each worker of serve `pid` may run on. A worker the pool is still starting may be
 * `taskset` for a moment, before it binds itself and executes Node: only those already Node are read.
 */
function workerThreadCpus(pid: number): number[][][] {
  const children = readdirSync(`/proc/${pid}/task`).flatMap((tid) => readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  const workers = children.filter((child) => {
    try {
      return readlinkSync(`/proc/${child}/exe`) === NODE;
    } catch {
      return false;
    }
  });
  return workers.map(threadCpus);
}


describe.runIf(detectCpuBinding() !== null)('serve and the CPUs of its workers', () => {
  it('binds each worker, every thread of it, to one CPU by default; --no-cpu-binding does not', async () => {
    for (const [args, bound] of [[[], true], [['--no-cpu-binding'], false]] as const) {
      const host = await startHost({ args: [...args, '--dev', join(EXAMPLES, 'text-tools')] });
      try {
        const r = await host.client.callTool({ name: 'text-tools__word_count', arguments: { text: 'one two three' } });
        expect(r.isError).toBeFalsy();
        const workers = workerThreadCpus(host.pid);
        // The worker that ran the call, and any other the pool has started by now.
        expect(workers.length).toBeGreaterThan(0);
        for (const threads of workers) {
          for (const t of threads) expect(t).toEqual(threads[0]);
          if (bound) {
            expect(threads[0]).toHaveLength(1);
            expect(OUR_CPUS).toContain(threads[0]![0]);
          } else expect(threads[0]).toEqual(OUR_CPUS);
        }
      } finally {
        await host.close();
      }
    }
  });
});
