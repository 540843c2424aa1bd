import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { NO_GRANT, inlinePackage, limits, newSandbox } from '../../helpers/sandbox.ts';

const sandbox = newSandbox({ workers: 1 });
afterAll(() => sandbox.close());

// A full collection on demand (the flag lets a new context have `gc`).
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const pkg = inlinePackage(`export default { echo: (input) => input.text.length }`);

/**
 * Runs one call whose arguments nothing in this test keeps, with the `abort` listener the scheduler adds to
 * the call's signal held here; gives a weak reference to the arguments.
 */
async function callHoldingItsAbortListener(signal: AbortSignal, held: unknown[]): Promise<WeakRef<object>> {
  const add = signal.addEventListener.bind(signal);
  signal.addEventListener = ((...a: Parameters<typeof signal.addEventListener>) => {
    held.push(a[1]);
    add(...a);
  }) as typeof signal.addEventListener;
  const args = { text: 'x'.repeat(100_000).split('').join('') };
  const ref = new WeakRef(args);
  const r = await sandbox.run(pkg, 'echo', args, NO_GRANT, limits(), { signal });
  expect(r.value).toBe(100_000);
  return ref;
}

// The listener a call adds to its signal (runtime/pool/scheduler.ts) is removed when the call settles, but
// V8's young-generation GC does not always see that: a listener it still finds (from a dead object promoted
// earlier, or a signal kept a while) kept the whole call alive through every scavenge until the next full
// GC, its arguments and their JSON included (issue 14, docs/performance-history.md *Fifth pass: garbage per call*).
// So a settled call's listener must reach nothing of the call.
describe("a settled call's abort listener", () => {
  it('holds nothing of the call: its arguments are collected while the listener is kept', async () => {
    const controller = new AbortController();
    const held: unknown[] = [];
    const ref = await callHoldingItsAbortListener(controller.signal, held);
    expect(held).toHaveLength(1);
    // A WeakRef keeps its target until the end of the job that made it.
    await new Promise((resolve) => setImmediate(resolve));
    collect();
    expect(ref.deref() === undefined).toBe(true);
    expect(held).toHaveLength(1);
  });

  it('still cancels a call that has not settled', async () => {
    const slow = inlinePackage(`export default { wait: () => new Promise(() => {}) }`);
    const controller = new AbortController();
    const run = sandbox.run(slow, 'wait', {}, NO_GRANT, limits({ wallMs: 60_000 }), { signal: controller.signal });
    controller.abort();
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
