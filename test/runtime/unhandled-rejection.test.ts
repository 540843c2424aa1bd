import { afterAll, describe, expect, it } from 'vitest';
import type { LogEvent } from '../../runtime/api.ts';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// A rejected promise the tool never observes is the tool's own business, as in any JavaScript runtime: it
// must neither fail the call nor dispose the package's isolate.
const sandbox = newSandbox();
afterAll(() => sandbox.close());

const pkg = inlinePackage(`
let calls = 0;
export default {
  // Past the host-call quota, the capability promise is refused at once, and nobody looks at it.
  unobservedCapability: async (_a, ctx) => {
    calls++;
    await ctx.fs.readFile('/not-granted').catch(() => 'refused');
    ctx.fetch('http://127.0.0.1:9/');
    ctx.fs.readFile('/also-not-granted');
    return { calls };
  },
  unobservedPlain: () => { calls++; Promise.reject(new Error('nobody listens')); return { calls }; },
  unobservedLater: async (_a, ctx) => {
    calls++;
    ctx.fs.stat('/not-granted');
    const after = await ctx.fs.readdir('/not-granted-either').then(() => 'granted', (e) => e.code);
    return { calls, after };
  },
  sensitiveToReset: () => ({ calls }),
};`);

describe('an unobserved rejected promise', () => {
  const L = limits({ hostCalls: 1 });

  it('of a capability does not fail the call nor reset the isolate', async () => {
    const logs: LogEvent[] = [];
    await expect(sandbox.run(pkg, 'unobservedCapability', {}, NO_GRANT, L, { onLog: (e) => logs.push(e) })).resolves.toMatchObject({ value: { calls: 1 } });
    // Reported to the call's log, like Node reports one.
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warning', message: expect.stringContaining('unhandled promise rejection ignored') }));
    // Same isolate: the module state survived.
    await expect(sandbox.run(pkg, 'sensitiveToReset', {}, NO_GRANT, L)).resolves.toMatchObject({ value: { calls: 1 } });
  });

  it('of the tool itself does not fail the call either', async () => {
    await expect(sandbox.run(pkg, 'unobservedPlain', {}, NO_GRANT, L)).resolves.toMatchObject({ value: { calls: 2 } });
  });

  // The denial arrives in an entry of its own (the host's answer), and nobody observes it either.
  it('rejected by the host in a later entry does not fail the call', async () => {
    const result = await sandbox.run(pkg, 'unobservedLater', {}, NO_GRANT, limits({ hostCalls: 10 }));
    expect(result.value).toEqual({ calls: 3, after: 'CAPABILITY_DENIED' });
    expect(await codeOf(sandbox.run(pkg, 'sensitiveToReset', {}, NO_GRANT, L))).toBe('OK');
  });
});
