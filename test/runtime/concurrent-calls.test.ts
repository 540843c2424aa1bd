import { afterAll, describe, expect, it } from 'vitest';
import type { LogEvent, ProgressEvent } from '../../runtime/api.ts';
import { NO_GRANT, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// Two calls of one package in flight at once share its warm isolate. Whatever each does must be charged to
// itself: its context carries its own call id, even when its code runs in the other call's entry.
const sandbox = newSandbox();
afterAll(() => sandbox.close());

const pkg = inlinePackage(`
let open;
const gate = new Promise((resolve) => { open = resolve; });
export default {
  // Waits on module state that the other call resolves: its continuation runs in the opener's entry.
  waiter: async (_a, ctx) => {
    ctx.log('info', 'waiter: waiting');
    await gate;
    ctx.log('info', 'waiter: resumed');
    ctx.progress(1, 2, 'waiter');
    // The opener finishes meanwhile, in this same entry: the globals must now act for the waiter.
    await null;
    const sameCtx = warden === ctx;
    console.log('waiter: console');
    await new Promise((resolve) => setTimeout(resolve, 1));
    const denied = await ctx.fs.stat('/waiter-path').then(() => 'granted', (e) => e.code);
    return { denied, sameCtx };
  },
  opener: (_a, ctx) => {
    ctx.log('info', 'opener: opening');
    open();
    ctx.log('info', 'opener: opened');
    return 'opened';
  },
}`);

describe('two concurrent calls of one package', () => {
  it('charge their logs, progress, requests and globals to their own call', async () => {
    const logs: Record<string, string[]> = { waiter: [], opener: [] };
    const progress: ProgressEvent[] = [];
    const capabilities: string[] = [];
    let waiting!: () => void;
    const waiterReady = new Promise<void>((resolve) => (waiting = resolve));
    const onLog = (who: string) => (e: LogEvent) => {
      logs[who]!.push(e.message);
      if (e.message === 'waiter: waiting') waiting();
    };
    const L = limits({ wallMs: 30_000 });
    const waiter = sandbox.run(pkg, 'waiter', {}, NO_GRANT, L, {
      onLog: onLog('waiter'),
      onProgress: (e) => progress.push(e),
      onCapability: (e) => capabilities.push(`waiter ${e.target}`),
    });
    await waiterReady;
    const opener = await sandbox.run(pkg, 'opener', {}, NO_GRANT, L, {
      onLog: onLog('opener'),
      onCapability: (e) => capabilities.push(`opener ${e.target}`),
    });
    expect(opener.value).toBe('opened');
    expect((await waiter).value).toEqual({ denied: 'CAPABILITY_DENIED', sameCtx: true });
    expect(logs).toEqual({
      waiter: ['waiter: waiting', 'waiter: resumed', 'waiter: console'],
      opener: ['opener: opening', 'opener: opened'],
    });
    expect(progress).toEqual([{ progress: 1, total: 2, message: 'waiter' }]);
    expect(capabilities).toEqual(['waiter /waiter-path']);
  });
});
