import { afterAll, describe, expect, it } from 'vitest';
import { allowedCpus, cpuFor, detectCpuBinding, parseCpuList, pinFor } from '../../../runtime/pool/cpu-binding.ts';
import type { CpuBinding } from '../../../runtime/pool/cpu-binding.ts';
import { NO_GRANT, inlinePackage, limits, newSandbox } from '../../helpers/sandbox.ts';
import { OUR_CPUS, threadCpus } from '../../helpers/cpus.ts';

describe('parseCpuList', () => {
  it('reads single CPUs and ranges, in order and without repeats', () => {
    expect(parseCpuList('0')).toEqual([0]);
    expect(parseCpuList('0-3,8,10-11\n')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuList('3,1,1-2')).toEqual([1, 2, 3]);
  });

  it.each(['', '0-', 'a', '3-1', '0,,1', '-1', '0-2:2'])('gives nothing for a malformed list (%j)', (list) => {
    expect(parseCpuList(list)).toEqual([]);
  });
});

describe('allowedCpus', () => {
  it("takes a process's Cpus_allowed_list from its status, and nothing when the line is missing", () => {
    expect(allowedCpus('Name:\tnode\nCpus_allowed:\t0f\nCpus_allowed_list:\t0-2,5\nMems_allowed:\t1\n')).toEqual([0, 1, 2, 5]);
    expect(allowedCpus('Name:\tnode\n')).toEqual([]);
  });
});

describe('cpuFor', () => {
  it('goes round the allowed CPUs from the offset, slot by slot', () => {
    const binding: CpuBinding = { taskset: '/usr/bin/taskset', cpus: [2, 5, 7], offset: 1 };
    expect([0, 1, 2, 3, 4].map((slot) => cpuFor(binding, slot))).toEqual([5, 7, 2, 5, 7]);
  });

  it('gives each slot its binding program and that CPU (pinFor)', () => {
    const binding: CpuBinding = { taskset: '/bin/taskset', cpus: [0, 1], offset: 1 };
    expect([pinFor(binding, 0), pinFor(binding, 1)]).toEqual([
      { taskset: '/bin/taskset', cpu: 1 },
      { taskset: '/bin/taskset', cpu: 0 },
    ]);
  });
});

// Only where the system lets workers be bound (Linux with taskset at a system path, two CPUs or more): the
// project's CI machine is one.
const binding = detectCpuBinding();

describe.runIf(binding !== null)('sandbox workers bound to CPUs (bindWorkers)', () => {
  const bound = newSandbox({ workers: 2, bindWorkers: true });
  const unbound = newSandbox({ workers: 1 });
  afterAll(() => Promise.all([bound.close(), unbound.close()]));
  const tools = () =>
    inlinePackage(`export default {
  digest: async ({ text }) => {
    const bytes = new TextEncoder().encode(text);
    return Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)).slice(0, 4));
  },
}`);

  it('each run on one CPU of their own, every thread of them, and serve calls as before', async () => {
    const [a, b] = [tools(), tools()];
    const text = 'x'.repeat(10_000);
    // Two packages on two workers: each package goes to the worker with the fewest.
    const values = await Promise.all([a, b].map(async (pkg) => (await bound.run(pkg, 'digest', { text }, NO_GRANT, limits())).value));
    expect(values[0]).toEqual(values[1]);
    expect(values[0]).toHaveLength(4);
    const pids = bound.stats().workerPids;
    expect(pids).toHaveLength(2);
    const cpus = pids.map((pid) => {
      const threads = threadCpus(pid);
      // isolated-vm's threads, started after the binding, are bound with the main thread.
      expect(threads.length).toBeGreaterThan(1);
      for (const t of threads) expect(t).toEqual(threads[0]);
      expect(threads[0]).toHaveLength(1);
      return threads[0]![0]!;
    });
    expect(new Set(cpus).size).toBe(2);
    for (const cpu of cpus) expect(OUR_CPUS).toContain(cpu);
  });

  it('are left where the system puts them unless asked', async () => {
    await unbound.run(tools(), 'digest', { text: 'y' }, NO_GRANT, limits());
    const [pid] = unbound.stats().workerPids;
    expect(threadCpus(pid!)[0]).toEqual(OUR_CPUS);
  });
});

describe.runIf(process.platform === 'linux')('a worker that cannot be bound', () => {
  const diagnostics: string[] = [];
  // /bin/false in place of taskset: the bound worker ends at once, before it starts.
  const sandbox = newSandbox({
    workers: 1,
    bindWorkers: true,
    cpuBinding: { taskset: '/bin/false', cpus: [0, 1], offset: 0 },
    onDiagnostic: (d) => diagnostics.push(d.kind),
  });
  afterAll(() => sandbox.close());

  it('is replaced by an unbound one, which serves the call, and binding is given up', async () => {
    const tools = inlinePackage('export default { ping: () => "pong" }');
    await expect(sandbox.run(tools, 'ping', {}, NO_GRANT, limits())).resolves.toMatchObject({ value: 'pong' });
    expect(diagnostics).toContain('cpu-binding');
    const [pid] = sandbox.stats().workerPids;
    expect(threadCpus(pid!)[0]).toEqual(OUR_CPUS);
    await expect(sandbox.run(tools, 'ping', {}, NO_GRANT, limits())).resolves.toMatchObject({ value: 'pong' });
    expect(diagnostics.filter((k) => k === 'cpu-binding')).toHaveLength(1);
  });
});
