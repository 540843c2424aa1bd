import { afterAll, describe, expect, it } from 'vitest';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// Un-awaited host calls and log floods would queue memory outside the isolate's heap accounting, in the
// worker and the host. Quotas are counted inside the bootstrap, before anything is posted.
const sandbox = newSandbox();
// CPU and wall limits are generous: the quotas are under test, and a loaded machine stretches the floods.
afterAll(() => sandbox.close());

const flood = inlinePackage(`export default {
  unawaitedTimers: () => {
    let refused = 0;
    for (let i = 0; i < 100000; i++) { try { setTimeout(() => {}, 100000); } catch (e) { if (e.code === 'QUOTA_EXCEEDED') refused++; } }
    return { refused };
  },
  unawaitedReads: async (_a, ctx) => {
    const ps = [];
    for (let i = 0; i < 5000; i++) ps.push(ctx.fs.readFile('/nope').then(() => 'ok', (e) => e.code));
    const codes = await Promise.all(ps);
    const count = {};
    for (const c of codes) count[c] = (count[c] || 0) + 1;
    return count;
  },
  logFlood: (_a, ctx) => { for (let i = 0; i < 200000; i++) console.log('line', i, 'x'.repeat(100)); return 'done'; },
  progressFlood: (_a, ctx) => { for (let i = 0; i < 200000; i++) ctx.progress(i, 200000); return 'done'; },
}`);

describe('a flood of un-awaited host calls', () => {
  it('is cut off by the host-call quota inside the isolate', async () => {
    const { value } = await sandbox.run(flood, 'unawaitedReads', {}, NO_GRANT, limits({ hostCalls: 100, cpuMs: 10_000, wallMs: 30_000 }));
    const counts = value as Record<string, number>;
    // 64 may be in flight at once; everything past the quotas is refused without reaching the host.
    expect(counts.QUOTA_EXCEEDED).toBeGreaterThanOrEqual(4900);
    // The few that reached the host were refused there: nothing is granted.
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(5000);
    expect(counts.OK ?? 0).toBe(0);
  });

  it('of timers is refused past the pending-timer quota', async () => {
    await expect(sandbox.run(flood, 'unawaitedTimers', {}, NO_GRANT, limits({ cpuMs: 10_000, wallMs: 30_000 }))).resolves.toMatchObject({ value: { refused: 99000 } });
  });
});

describe('a log flood', () => {
  it('delivers at most the log quota to the host', async () => {
    let bytes = 0;
    let lines = 0;
    const L = limits({ logBytes: 10_000, cpuMs: 10_000, wallMs: 30_000 });
    const { value } = await sandbox.run(flood, 'logFlood', {}, NO_GRANT, L, {
      onLog: (e) => {
        lines++;
        bytes += e.message.length;
      },
    });
    expect(value).toBe('done');
    expect(bytes).toBeLessThanOrEqual(10_000 + 100);
    expect(lines).toBeLessThan(200);
  });

  it('of progress notifications is bounded the same way', async () => {
    let events = 0;
    const L = limits({ logBytes: 10_000, cpuMs: 10_000, wallMs: 30_000 });
    await sandbox.run(flood, 'progressFlood', {}, NO_GRANT, L, { onProgress: () => events++ });
    expect(events).toBeLessThanOrEqual(10_000 / 16);
    expect(events).toBeGreaterThan(0);
  });
});

describe('after the floods', () => {
  it('the package still answers', async () => {
    expect(await codeOf(sandbox.run(flood, 'unawaitedTimers', {}, NO_GRANT, limits({ cpuMs: 10_000, wallMs: 30_000 })))).toBe('OK');
  });
});
