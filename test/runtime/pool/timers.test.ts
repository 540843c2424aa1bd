import { afterAll, describe, expect, it } from 'vitest';
import { inlinePackage, limits, newSandbox } from '../../helpers/sandbox.ts';
import type { Grant } from '../../../runtime/api.ts';

const sandbox = newSandbox({ workers: 1 });
afterAll(() => sandbox.close());

const NO_GRANT = { net: { rules: [] }, fs: { rules: [] } } as unknown as Grant;

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('calls in flight (issue 14)', () => {
  it('arm no host timer per call: one watchdog check serves them all', async () => {
    const pkg = inlinePackage(`export default {
      async wait(_input, ctx) { ctx.log('info', 'started'); await new Promise((r) => setTimeout(r, 100000)); return 'late'; },
    }`);
    const n = 16;
    // Warm: the worker and the isolate exist before counting.
    const warm = new AbortController();
    let warmed: () => void = () => undefined;
    const warmCall = sandbox.run(pkg, 'wait', {}, NO_GRANT, limits({ wallMs: 200_000, concurrency: n }), { signal: warm.signal, onLog: () => warmed() });
    await new Promise<void>((r) => (warmed = r));
    const before = timeouts();
    let started = 0;
    let allStarted: () => void = () => undefined;
    const all = new Promise<void>((r) => (allStarted = r));
    const controllers = Array.from({ length: n - 1 }, () => new AbortController());
    const runs = controllers.map((c) =>
      sandbox.run(pkg, 'wait', {}, NO_GRANT, limits({ wallMs: 200_000, concurrency: n }), {
        signal: c.signal,
        onLog: () => {
          if (++started === n - 1) allStarted();
        },
      }),
    );
    await all;
    const during = timeouts();
    for (const c of [warm, ...controllers]) c.abort();
    await Promise.allSettled([warmCall, ...runs]);
    expect(during - before).toBeLessThanOrEqual(1);
  });
});
