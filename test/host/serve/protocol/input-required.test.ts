import { ProtocolError } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { isHostError } from '../../../../host/errors.ts';
import { MAX_INPUT_REQUESTS, STATE_TTL_MS, checkInputRequired, checkInputResponses, createStateCodec } from '../../../../host/serve/protocol/input-required.ts';
import type { StateBinding } from '../../../../host/serve/protocol/input-required.ts';

const confirm = {
  method: 'elicitation/create',
  params: { message: 'Deploy?', requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean' } }, required: ['confirm'] } },
};

function codeOf(fn: () => unknown): string | number | undefined {
  try {
    fn();
  } catch (e) {
    if (isHostError(e)) return e.code;
    if (e instanceof ProtocolError) return e.code;
    throw e;
  }
  return undefined;
}

describe('checkInputRequired', () => {
  it('accepts form and URL elicitations, sampling and roots requests, with the tool\'s state', () => {
    const checked = checkInputRequired({
      inputRequests: {
        confirm,
        login: { method: 'elicitation/create', params: { mode: 'url', message: 'Sign in', url: 'https://example.com/login' } },
        summary: { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 10 } },
        roots: { method: 'roots/list' },
      },
      requestState: 'step-2',
    });
    expect(Object.keys(checked.inputRequests ?? {})).toEqual(['confirm', 'login', 'summary', 'roots']);
    expect(checked.toolState).toBe('step-2');
  });

  it.each([
    ['not an object', 'yes'],
    ['an unexpected field', { inputRequests: { confirm }, resultType: 'complete' }],
    ['no requests (a state alone)', { requestState: 's' }],
    ['an empty request map', { inputRequests: {} }],
    ['an unknown kind', { inputRequests: { x: { method: 'tools/call', params: { name: 'other' } } } }],
    ['a server→client ping', { inputRequests: { x: { method: 'ping' } } }],
    ['a form elicitation without a schema', { inputRequests: { x: { method: 'elicitation/create', params: { message: 'm' } } } }],
    ['a nested elicitation schema', { inputRequests: { x: { method: 'elicitation/create', params: { message: 'm', requestedSchema: { type: 'object', properties: { a: { type: 'object' } } } } } } }],
    ['a URL elicitation to a file: URL', { inputRequests: { x: { method: 'elicitation/create', params: { mode: 'url', message: 'm', url: 'file:///etc/passwd' } } } }],
    ['a sampling request without maxTokens', { inputRequests: { x: { method: 'sampling/createMessage', params: { messages: [] } } } }],
    ['a key that is not a name', { inputRequests: { '__proto__x y': confirm } }],
    ['an extra field in a request', { inputRequests: { x: { ...confirm, id: 7 } } }],
    ['too many requests', { inputRequests: Object.fromEntries(Array.from({ length: MAX_INPUT_REQUESTS + 1 }, (_, i) => [`k${i}`, confirm])) }],
    ['a state over 4 KiB', { inputRequests: { confirm }, requestState: 'x'.repeat(4097) }],
    ['a state that is not a string', { inputRequests: { confirm }, requestState: 7 }],
    ['requests over 64 KiB', { inputRequests: { x: { ...confirm, params: { ...confirm.params, message: 'm'.repeat(70_000) } } } }],
  ])('refuses %s with INPUT_REQUEST_INVALID', (_name, value) => {
    expect(codeOf(() => checkInputRequired(value))).toBe('INPUT_REQUEST_INVALID');
  });
});

describe('the requestState codec', () => {
  const binding: StateBinding = { package: 'asks', version: '1.0.0', tool: 'deploy', argsDigest: 'hmac-sha256:aa' };
  const codec = createStateCodec();
  const token = codec.mint(binding, { toolState: 'deploy:staging', keys: ['confirm'], round: 1 });

  it('gives back what it signed, for the call it was minted for', () => {
    expect(codec.verify(token, binding)).toEqual({ toolState: 'deploy:staging', keys: ['confirm'], round: 1 });
  });

  it.each([
    ['another tool', { ...binding, tool: 'destroy' }],
    ['other arguments', { ...binding, argsDigest: 'hmac-sha256:bb' }],
    ['another package', { ...binding, package: 'other' }],
    ['another version', { ...binding, version: '1.0.1' }],
  ])('refuses a state replayed on %s with -32602', (_name, other) => {
    expect(codeOf(() => codec.verify(token, other))).toBe(-32602);
  });

  it('refuses an edited state, a forged one, one of another process, and one that is not a string', () => {
    const [prefix, body, mac] = token.split('.') as [string, string, string];
    const edited = Buffer.from(JSON.stringify({ s: 'deploy:prod', k: ['confirm'], r: 1, exp: Date.now() + 60_000 })).toString('base64url');
    expect(codeOf(() => codec.verify(`${prefix}.${edited}.${mac}`, binding))).toBe(-32602);
    expect(codeOf(() => codec.verify(`${prefix}.${body}.${mac.slice(0, -2)}AA`, binding))).toBe(-32602);
    expect(codeOf(() => codec.verify('deploy:staging', binding))).toBe(-32602);
    expect(codeOf(() => createStateCodec().verify(token, binding))).toBe(-32602);
    expect(codeOf(() => codec.verify({ toString: () => token }, binding))).toBe(-32602);
  });

  it('refuses a state past its expiry', () => {
    let now = 1_000_000;
    const clocked = createStateCodec({ now: () => now });
    const t = clocked.mint(binding, { keys: ['confirm'], round: 1 });
    now += STATE_TTL_MS + 1;
    expect(codeOf(() => clocked.verify(t, binding))).toBe(-32602);
  });
});

describe('checkInputResponses', () => {
  const state = { keys: ['confirm'], round: 1 };

  it('passes the answers to the keys asked', () => {
    expect(checkInputResponses({ confirm: { action: 'accept', content: { confirm: true } } }, state)).toEqual({ confirm: { action: 'accept', content: { confirm: true } } });
  });

  it('refuses answers to keys not asked, non-object answers and answers nested too deep, with -32602', () => {
    expect(codeOf(() => checkInputResponses({ other: { action: 'accept' } }, state))).toBe(-32602);
    expect(codeOf(() => checkInputResponses({ confirm: 'yes' }, state))).toBe(-32602);
    let deep: unknown = {};
    for (let i = 0; i < 100; i++) deep = { a: deep };
    expect(codeOf(() => checkInputResponses({ confirm: deep }, state))).toBe(-32602);
  });
});
