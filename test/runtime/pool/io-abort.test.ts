import { afterAll, describe, expect, it } from 'vitest';
import { parseAskGrant } from '../../../runtime/capabilities/ask.ts';
import { parseFsGrant } from '../../../runtime/capabilities/fs.ts';
import { parseNetGrant } from '../../../runtime/capabilities/net.ts';
import type { ConsentHook, Grant } from '../../../runtime/api.ts';
import { inlinePackage, limits, newSandbox } from '../../helpers/sandbox.ts';

const sandbox = newSandbox({ workers: 1 });
afterAll(() => sandbox.close());

// When a call ends, the host I/O it still has in flight is aborted (runtime/pool/scheduler.ts). The reason
// is the call's end, as a CANCELLED SandboxError made once: an abort() without a reason builds a
// DOMException (and its stack) on every call that did I/O (issue 14, the gated fetch).
describe('the host I/O of a call that ended', () => {
  it('is aborted, with CANCELLED as the reason', async () => {
    let signal: AbortSignal | null = null;
    const consent: ConsentHook = {
      timeoutMs: 60_000,
      // The question stays open: the call ends while its fetch waits for it.
      ask: (_request, s) => {
        signal = s;
        return new Promise(() => undefined);
      },
    };
    const grant: Grant = { net: parseNetGrant([]), fs: parseFsGrant([]), ask: parseAskGrant({ net: ['api.example.com'], fs: [] }, { net: [], fs: [] }, { net: [], fs: [] }) };
    const pkg = inlinePackage(`export default { go: (_input, ctx) => { ctx.fetch('https://api.example.com/').catch(() => undefined); return 'sent'; } }`);
    expect((await sandbox.run(pkg, 'go', {}, grant, limits(), { consent })).value).toBe('sent');
    const s = signal as AbortSignal | null;
    expect(s).not.toBeNull();
    if (s === null) return;
    if (!s.aborted) await new Promise((resolve) => s.addEventListener('abort', resolve, { once: true }));
    expect(s.reason).toMatchObject({ name: 'SandboxError', code: 'CANCELLED' });
  });
});
