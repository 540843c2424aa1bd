/**
 * The consent of one call (host/serve/consent/call.ts) with the channels a client offers, over a real
 * ConsentStore without a home (answers kept in memory) and the real requestState codec.
 */
import { describe, expect, it } from 'vitest';
import type { ConsentRequest } from '../../../../runtime/index.ts';
import { CONSENT_INPUT_KEY, answerOf, createCallConsent } from '../../../../host/serve/consent/call.ts';
import type { ConsentChannel } from '../../../../host/serve/consent/call.ts';
import { createConsentStore } from '../../../../host/serve/consent/store.ts';
import { createStateCodec } from '../../../../host/serve/protocol/input-required.ts';

const pkg = { name: 'weather', version: '1.0.0', origin: 'installed' as const };
const request: ConsentRequest = { kind: 'net', rule: 'api.example.com', op: 'GET https://api.example.com/v1/x', refused: false };
const binding = { package: 'weather', version: '1.0.0', tool: 'forecast', argsDigest: 'd1' };
const never = new AbortController().signal;

function elicitWith(...results: unknown[]): { channel: ConsentChannel; asked: string[] } {
  const asked: string[] = [];
  const channel: ConsentChannel = {
    kind: 'elicit',
    elicit: async (params) => {
      asked.push(params.message);
      const r = results.shift();
      if (r instanceof Error) throw r;
      return r as never;
    },
  };
  return { channel, asked };
}

describe('answerOf', () => {
  it.each([
    [{ action: 'accept', content: { decision: 'always' } }, 'always'],
    [{ action: 'accept', content: { decision: 'sometimes' } }, null],
    [{ action: 'decline' }, null],
    [{ action: 'cancel', content: { decision: 'once' } }, null],
    ['once', null],
  ])('%j → %s', (r, expected) => expect(answerOf(r)).toBe(expected));
});

describe('a client without elicitation', () => {
  it('refuses with CONSENT_REQUIRED naming the command, and maps the call\'s denial failure to it', async () => {
    const c = await createCallConsent({ store: createConsentStore(), pkg, tool: 'forecast', channel: { kind: 'none' }, signal: never });
    const d = await c.hook.ask(request, never);
    expect(d).toMatchObject({ allowed: false, code: 'CONSENT_REQUIRED' });
    expect(!d.allowed && d.message).toContain('mcp-warden grant weather --allow net:api.example.com');
    expect(c.mapFailure({ code: 'CAPABILITY_DENIED' })).toMatchObject({ code: 'CONSENT_REQUIRED' });
    const other = { code: 'SANDBOX_TIMEOUT' };
    expect(c.mapFailure(other)).toBe(other);
  });
});

describe('a 2025-11-25 client with elicitation', () => {
  it('asks one question at a time in a call: a second request for the same rule gets the first answer ("once")', async () => {
    const { channel, asked } = elicitWith({ action: 'accept', content: { decision: 'once' } });
    const c = await createCallConsent({ store: createConsentStore(), pkg, tool: 'forecast', channel, signal: never });
    const [a, b] = await Promise.all([c.hook.ask(request, never), c.hook.ask(request, never)]);
    expect([a, b]).toEqual([{ allowed: true }, { allowed: true }]);
    expect(asked).toHaveLength(1);
    // "once" is this call's: another call asks again.
    const next = elicitWith({ action: 'decline' });
    const c2 = await createCallConsent({ store: createConsentStore(), pkg, tool: 'forecast', channel: next.channel, signal: never });
    expect(await c2.hook.ask(request, never)).toMatchObject({ allowed: false, code: 'CONSENT_DENIED' });
    expect(next.asked).toHaveLength(1);
  });

  it('"always" and "never" hold for later calls of the process without asking', async () => {
    const store = createConsentStore();
    const first = elicitWith({ action: 'accept', content: { decision: 'always' } }, { action: 'accept', content: { decision: 'never' } });
    const c = await createCallConsent({ store, pkg, tool: 'forecast', channel: first.channel, signal: never });
    expect(await c.hook.ask(request, never)).toEqual({ allowed: true });
    const other: ConsentRequest = { ...request, rule: 'other.example.com', op: 'GET https://other.example.com/' };
    expect(await c.hook.ask(other, never)).toMatchObject({ allowed: false, code: 'CONSENT_REFUSED' });
    const quiet = elicitWith();
    const later = await createCallConsent({ store, pkg, tool: 'forecast', channel: quiet.channel, signal: never });
    expect(await later.hook.ask(request, never)).toEqual({ allowed: true });
    expect(await later.hook.ask(other, never)).toMatchObject({ allowed: false, code: 'CONSENT_REFUSED' });
    expect(quiet.asked).toEqual([]);
    expect(store.decided(pkg, { kind: 'net', rule: 'api.example.com' })).toBe('always');
  });

  it('gives CONSENT_TIMEOUT when nobody answers in time (the client request timed out)', async () => {
    const { channel } = elicitWith(Object.assign(new Error('Request timed out'), { code: 'REQUEST_TIMEOUT' }));
    const c = await createCallConsent({ store: createConsentStore({ timeoutMs: 1000 }), pkg, tool: 'forecast', channel, signal: never });
    expect(await c.hook.ask(request, never)).toMatchObject({ allowed: false, code: 'CONSENT_TIMEOUT' });
  });

  it.each(['once', 'always'])('refuses a capability beyond the policy ceiling without asking the user (an answer of "%s" would not help) and stores nothing', async (decision) => {
    const seen: unknown[] = [];
    const store = createConsentStore({ ceiling: (name, added) => (seen.push([name, added]), { allowed: false, message: 'the organisation policy allows no network' }) });
    const { channel, asked } = elicitWith({ action: 'accept', content: { decision } });
    const c = await createCallConsent({ store, pkg, tool: 'forecast', channel, signal: never });
    const d = await c.hook.ask(request, never);
    expect(d).toMatchObject({ allowed: false, code: 'CONSENT_REFUSED' });
    expect(!d.allowed && d.message).toContain('organisation policy');
    expect(asked).toEqual([]);
    expect(seen).toEqual([['weather', { net: ['api.example.com'], fs: [] }]]);
    expect(store.decided(pkg, { kind: 'net', rule: 'api.example.com' })).toBeUndefined();
  });

  it('asks, and allows, a capability within the policy ceiling', async () => {
    const store = createConsentStore({ ceiling: () => ({ allowed: true }) });
    const { channel, asked } = elicitWith({ action: 'accept', content: { decision: 'once' } });
    const c = await createCallConsent({ store, pkg, tool: 'forecast', channel, signal: never });
    expect(await c.hook.ask(request, never)).toEqual({ allowed: true });
    expect(asked).toHaveLength(1);
  });

  it('shows the package, tool, operation and rule, without control characters', async () => {
    const { channel, asked } = elicitWith({ action: 'decline' });
    const c = await createCallConsent({ store: createConsentStore(), pkg, tool: 'fore\u001b[2Jcast', channel, signal: never });
    await c.hook.ask({ ...request, op: 'GET https://api.example.com/\u202eevil' }, never);
    expect(asked[0]).toContain('weather@1.0.0 (tool "fore [2Jcast")');
    expect(asked[0]).toContain('network rule "api.example.com"');
    expect([...(asked[0] ?? '')].filter((ch) => ch !== '\n' && (ch.charCodeAt(0) < 0x20 || ch === '\u202e'))).toEqual([]);
  });
});

describe('a 2026-07-28 client with elicitation', () => {
  it('ends the call with an input_required result bound to the capability, and the retry\'s answer allows the re-run', async () => {
    const codec = createStateCodec();
    const ac = new AbortController();
    const c = await createCallConsent({ store: createConsentStore(), pkg, tool: 'forecast', channel: { kind: 'input-required' }, signal: ac.signal });
    expect(c.inputRequired(binding, codec, 1)).toBeUndefined();
    expect(await c.hook.ask(request, never)).toMatchObject({ allowed: false });
    // The call is stopped: its signal aborts.
    expect(c.signal.aborted).toBe(true);
    const result = c.inputRequired(binding, codec, 1);
    expect(result?.resultType).toBe('input_required');
    const question = (result?.inputRequests as Record<string, { method: string; params: { message: string } }>)[CONSENT_INPUT_KEY];
    expect(question?.method).toBe('elicitation/create');
    expect(question?.params.message).toContain('GET https://api.example.com/v1/x');

    const round = codec.verify(result?.requestState, binding);
    const retry = await createCallConsent({ store: createConsentStore(), pkg, tool: 'forecast', channel: { kind: 'input-required' }, signal: never, round, responses: { [CONSENT_INPUT_KEY]: { action: 'accept', content: { decision: 'once' } } } });
    expect(await retry.hook.ask(request, never)).toEqual({ allowed: true });
    expect(retry.signal.aborted).toBe(false);
    // The answer is about that capability only: another one is asked anew.
    await retry.hook.ask({ ...request, rule: 'other.example.com' }, never);
    expect(retry.inputRequired(binding, codec, 2)?.resultType).toBe('input_required');
    // The state cannot be replayed on other arguments.
    expect(() => codec.verify(result?.requestState, { ...binding, argsDigest: 'd2' })).toThrow();
  });

  it('treats a declined or missing answer as this call\'s denial (CONSENT_DENIED)', async () => {
    const codec = createStateCodec();
    const c = await createCallConsent({ store: createConsentStore(), pkg, tool: 'forecast', channel: { kind: 'input-required' }, signal: never });
    await c.hook.ask(request, never);
    const round = codec.verify(c.inputRequired(binding, codec, 1)?.requestState, binding);
    for (const responses of [{ [CONSENT_INPUT_KEY]: { action: 'decline' } }, {}]) {
      const retry = await createCallConsent({ store: createConsentStore(), pkg, tool: 'forecast', channel: { kind: 'input-required' }, signal: never, round, responses });
      expect(await retry.hook.ask(request, never)).toMatchObject({ allowed: false, code: 'CONSENT_DENIED' });
      expect(retry.inputRequired(binding, codec, 2)).toBeUndefined();
    }
  });
});
