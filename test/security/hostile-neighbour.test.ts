import { afterAll, describe, expect, it } from 'vitest';
import type { LogEvent } from '../../runtime/api.ts';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// One worker hosts both packages, so any delay the hog causes would land on its neighbour. Each isolate runs
// on isolated-vm's own threads: a package that legally burns its whole CPU budget, with more of its calls
// queued behind, delays only its own calls.
const sandbox = newSandbox({ workers: 1 });
afterAll(() => sandbox.close());

const hog = inlinePackage(`export default {
  spin: (_a, ctx) => { ctx.log('info', 'spinning'); while (true) {} },
}`);
const neighbour = inlinePackage(`export default {
  echo: async ({ n }) => { await new Promise((r) => setTimeout(r, 1)); return { n }; },
}`);

describe('a package looping at its full cpuMs, with calls queued', () => {
  it("delays none of another package's calls on the same worker, and is charged for its own", async () => {
    // Legal, high limits: each hog call could burn 20 s of CPU.
    const hogLimits = limits({ cpuMs: 20_000, wallMs: 60_000, concurrency: 4 });
    const cancel = new AbortController();
    let spinning!: () => void;
    const started = new Promise<void>((resolve) => (spinning = resolve));
    const onLog = (e: LogEvent) => {
      if (e.message === 'spinning') spinning();
    };
    const hogCalls = [1, 2, 3].map(() => sandbox.run(hog, 'spin', {}, NO_GRANT, hogLimits, { signal: cancel.signal, onLog }));
    await Promise.race([started, ...hogCalls]);

    // The neighbour's wall limit is far below one hog call's CPU budget: with the hog on the worker's
    // thread, every one of these would time out.
    const own = limits({ cpuMs: 300, wallMs: 5_000 });
    const results: unknown[] = [];
    for (let n = 0; n < 10; n++) results.push((await sandbox.run(neighbour, 'echo', { n }, NO_GRANT, own)).value);
    expect(results).toEqual([...Array(10).keys()].map((n) => ({ n })));

    // The hog is still running (nothing stopped it early), and ends with its own code when cancelled.
    cancel.abort();
    expect(await Promise.all(hogCalls.map(codeOf))).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED']);
    await expect(sandbox.run(neighbour, 'echo', { n: 10 }, NO_GRANT, own)).resolves.toMatchObject({ value: { n: 10 } });
  });

  it('is stopped at its own CPU limit, while the neighbour keeps being served', async () => {
    const hogLimits = limits({ cpuMs: 1_000, wallMs: 60_000 });
    let spinning!: () => void;
    const started = new Promise<void>((resolve) => (spinning = resolve));
    const hogCall = codeOf(sandbox.run(hog, 'spin', {}, NO_GRANT, hogLimits, { onLog: () => spinning() }));
    await Promise.race([started, hogCall]);
    const own = limits({ cpuMs: 300, wallMs: 5_000 });
    await expect(sandbox.run(neighbour, 'echo', { n: 1 }, NO_GRANT, own)).resolves.toMatchObject({ value: { n: 1 } });
    expect(await hogCall).toBe('SANDBOX_CPU_LIMIT');
  });
});
