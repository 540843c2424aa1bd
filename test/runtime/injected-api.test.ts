import { afterAll, describe, expect, it } from 'vitest';
import type { LogEvent, ProgressEvent } from '../../runtime/api.ts';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// The API a tool sees instead of Node's, exercised in a real isolate.
const sandbox = newSandbox();
afterAll(() => sandbox.close());

const api = inlinePackage(`export default {
  text: ({ s }) => {
    const bytes = new TextEncoder().encode(s);
    return { len: bytes.length, back: new TextDecoder().decode(bytes), bad: new TextDecoder().decode(new Uint8Array([0xff, 0x41])) };
  },
  url: () => {
    const u = new URL('/p/a th?x=1&y=a+b#h', 'https://Example.COM:443');
    u.searchParams.append('z', 'é');
    const v = new URL('http://h.test/');
    v.pathname = '/q';
    v.port = '8080';
    let invalid = false;
    try { new URL('not a url'); } catch (e) { invalid = e instanceof TypeError; }
    return { href: u.href, host: u.host, y: u.searchParams.get('y'), v: v.href, invalid, canParse: URL.canParse('https://a.b/') };
  },
  crypto: async () => {
    const a = crypto.getRandomValues(new Uint8Array(32));
    const b = crypto.getRandomValues(new Uint8Array(32));
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc')));
    return { differ: a.some((x, i) => x !== b[i]), uuid: crypto.randomUUID(), sha256: [...d].map((x) => x.toString(16).padStart(2, '0')).join('') };
  },
  timers: async () => {
    const order = [];
    await new Promise((resolve) => {
      setTimeout(() => order.push('b'), 20);
      setTimeout(() => order.push('a'), 5);
      const c = setTimeout(() => order.push('cleared'), 10);
      clearTimeout(c);
      setTimeout(resolve, 40);
    });
    let ticks = 0;
    await new Promise((resolve) => { const h = setInterval(() => { if (++ticks === 3) { clearInterval(h); resolve(); } }, 1); });
    return { order, ticks };
  },
  logs: (_a, ctx) => { console.log('hello', { n: 1 }); ctx.log('warn', 'careful', { k: 'v' }); return 'ok'; },
  progress: async (_a, ctx) => { for (let i = 1; i <= 3; i++) { ctx.progress(i, 3, 'step ' + i); await new Promise((r) => setTimeout(r, 1)); } return 'done'; },
  signal: async (_a, ctx) => {
    const fired = new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
    ctx.log('info', 'waiting for the signal');
    await fired;
    globalThis.sawAbort = { aborted: ctx.signal.aborted, code: ctx.signal.reason && ctx.signal.reason.code };
    return 'aborted';
  },
  sawAbort: () => globalThis.sawAbort ?? null,
  globalCtx: (_a, ctx) => warden === ctx,
}`);

describe('the injected API', () => {
  it('encodes and decodes UTF-8, replacing invalid bytes', async () => {
    const { value } = await sandbox.run(api, 'text', { s: 'héllo ✓ 😀' }, NO_GRANT, limits());
    expect(value).toEqual({ len: 15, back: 'héllo ✓ 😀', bad: '\ufffdA' });
  });

  it('round-trips long text through the native path (past the 64-character threshold)', async () => {
    const long = 'é✓😀 ascii '.repeat(2000);
    const { value } = await sandbox.run(api, 'text', { s: long }, NO_GRANT, limits());
    expect(value).toMatchObject({ len: Buffer.byteLength(long), back: long });
  });

  it('parses URLs like WHATWG URL, with setters and search params', async () => {
    const { value } = await sandbox.run(api, 'url', {}, NO_GRANT, limits());
    expect(value).toEqual({
      href: 'https://example.com/p/a%20th?x=1&y=a+b&z=%C3%A9#h',
      host: 'example.com',
      y: 'a b',
      v: 'http://h.test:8080/q',
      invalid: true,
      canParse: true,
    });
  });

  it('provides random values, UUIDs and SHA digests', async () => {
    const { value } = await sandbox.run(api, 'crypto', {}, NO_GRANT, limits());
    expect(value).toMatchObject({
      differ: true,
      uuid: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    });
  });

  it('runs timers in order and honours clearTimeout and clearInterval', async () => {
    const { value } = await sandbox.run(api, 'timers', {}, NO_GRANT, limits());
    expect(value).toEqual({ order: ['a', 'b'], ticks: 3 });
  });

  it('sends console and ctx.log lines to the host log', async () => {
    const logs: LogEvent[] = [];
    await sandbox.run(api, 'logs', {}, NO_GRANT, limits(), { onLog: (e) => logs.push(e) });
    expect(logs).toEqual([
      { level: 'info', message: 'hello {"n":1}', data: undefined },
      { level: 'warning', message: 'careful', data: { k: 'v' } },
    ]);
  });

  it('forwards progress', async () => {
    const events: ProgressEvent[] = [];
    await sandbox.run(api, 'progress', {}, NO_GRANT, limits(), { onProgress: (e) => events.push(e) });
    expect(events).toEqual([1, 2, 3].map((i) => ({ progress: i, total: 3, message: `step ${i}` })));
  });

  it('fires ctx.signal when the call is cancelled', async () => {
    const ac = new AbortController();
    // Cancelled once the tool says it is listening, not after a guessed delay.
    const run = sandbox.run(api, 'signal', {}, NO_GRANT, limits({ wallMs: 30_000 }), { signal: ac.signal, onLog: () => ac.abort() });
    expect(await codeOf(run)).toBe('CANCELLED');
    // The listener ran in the isolate (the abort is entered before any later call of the package).
    const { value } = await sandbox.run(api, 'sawAbort', {}, NO_GRANT, limits());
    expect(value).toEqual({ aborted: true, code: 'CANCELLED' });
  });

  it('exposes the current call context as the global warden', async () => {
    const { value } = await sandbox.run(api, 'globalCtx', {}, NO_GRANT, limits());
    expect(value).toBe(true);
  });
});
