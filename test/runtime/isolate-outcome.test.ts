import { describe, expect, it } from 'vitest';
import { PackageIsolate } from '../../runtime/isolate.ts';

// A call's outcome leaves the isolate without the isolate waiting for the worker's main thread
// (runtime/isolate.ts, postOutcome); the worker holds it until the entry that posted it returns
// (runtime/worker/entries.ts). That needs the outcome to reach the worker first, as it did when the isolate
// waited for it.
describe("a call's outcome", () => {
  it('reaches the worker before the entry that posted it returns, call after call and in a burst', async () => {
    const events: string[] = [];
    const iso = await PackageIsolate.create({
      source: 'export default { now: (x) => x, later: async (x) => { await null; await null; return x; }, bad: () => { throw new Error("no"); } }',
      filename: 'tool:///outcome-order/index.js',
      memoryMb: 32,
      timeoutMs: 5000,
      hooks: { onPost: (kind, callId) => events.push(`${kind} ${callId}`), onCatastrophic: () => undefined },
    });
    const quota = { hostCalls: 10, logBytes: 1000, outputBytes: 1000 };
    const tools = ['tool:now', 'tool:later', 'tool:bad', 'tool:missing'];
    const run = (id: number) => iso.dispatch(id, tools[id % tools.length] as string, { text: '{"n":1}' }, '{}', quota, 5000).then(() => events.push(`returned ${id}`));
    try {
      for (let id = 1; id <= 200; id++) await run(id);
      // Entries queued behind each other: each outcome still comes before its own entry's return.
      await Promise.all(Array.from({ length: 50 }, (_, i) => run(201 + i)));
      for (let id = 1; id <= 250; id++) {
        const outcome = events.findIndex((e) => e === `ok ${id}` || e === `err ${id}`);
        expect(outcome, `call ${id}`).toBeGreaterThanOrEqual(0);
        expect(outcome, `call ${id}`).toBeLessThan(events.indexOf(`returned ${id}`));
      }
      expect(events.filter((e) => e.startsWith('ok ') || e.startsWith('err '))).toHaveLength(250);
    } finally {
      iso.dispose();
    }
  });
});
