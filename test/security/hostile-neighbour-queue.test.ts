import { afterAll, describe, expect, it } from 'vitest';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// A package may only ever delay its own calls. Measured before: tool calls ran one at a time on a worker's
// main thread and a package's calls past its concurrency were refused, so a package that legally declared
// a high cpuMs and concurrency delayed every other package on its worker by cpuMs × queued calls (8 s with
// default limits), and the innocent package's calls failed as SANDBOX_TIMEOUT, audited so.
// Both packages share one worker here, the worst case. Outcomes and codes only: no timing assertions.
const sandbox = newSandbox({ workers: 1 });
afterAll(() => sandbox.close());

const hog = inlinePackage(`export default { spin: () => { console.log('spinning'); for (;;) {} } }`);
const innocent = inlinePackage(`export default { hello: async ({ n }) => { await new Promise((r) => setTimeout(r, 1)); return 'hello ' + n; } }`);

/** The codes a hog call may end with: its own CPU limit, or its isolate reset because a sibling hit it. */
const HOG_OWN_CODES = ['SANDBOX_CPU_LIMIT', 'ISOLATE_RESET'];

describe('a package looping at its full cpuMs with calls queued', () => {
  it.each([
    ['one at a time', 1],
    ['at a concurrency of 4', 4],
  ])('never delays or blames its neighbour on the same worker (hog %s)', async (_name, concurrency) => {
    const hogLimits = limits({ cpuMs: 1_000, wallMs: 120_000, concurrency });
    const innocentLimits = limits({ cpuMs: 300, wallMs: 3_000 });
    expect(await codeOf(sandbox.run(innocent, 'hello', { n: 0 }, NO_GRANT, innocentLimits))).toBe('OK');

    let spinning!: () => void;
    const started = new Promise<void>((resolve) => (spinning = resolve));
    // Twice its concurrency: half of them wait in the hog's own queue.
    const hogCalls = Array.from({ length: concurrency * 2 + 2 }, () => codeOf(sandbox.run(hog, 'spin', {}, NO_GRANT, hogLimits, { onLog: () => spinning() })));
    await started;
    // The hog is running its code now; the neighbour's calls arrive behind it.
    const innocentCalls = Array.from({ length: 5 }, (_, n) => codeOf(sandbox.run(innocent, 'hello', { n }, NO_GRANT, innocentLimits)));
    expect(await Promise.all(innocentCalls)).toEqual(['OK', 'OK', 'OK', 'OK', 'OK']);

    const hogCodes = await Promise.all(hogCalls);
    for (const code of hogCodes) expect(HOG_OWN_CODES).toContain(code);
    expect(hogCodes).toContain('SANDBOX_CPU_LIMIT');
    // Nothing was blamed on the worker: it was never killed or found unresponsive.
    expect(sandbox.stats().workerRestarts).toBe(0);
  }, 120_000);
});
