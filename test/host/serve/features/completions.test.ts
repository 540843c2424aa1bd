import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, callContext, harness, wireErrorOf } from './harness.ts';
import type { Harness } from './harness.ts';

const PREFIX = 'mcp-warden://content-fixture/';
let h: Harness;
beforeAll(async () => {
  h = await harness([join(FIXTURES, 'content')]);
});
afterAll(() => h.close());

const prompt = (name: string, arg: string, value: string) => ({ ref: { type: 'ref/prompt' as const, name }, argument: { name: arg, value } });
const template = (uri: string, arg: string, value: string, context?: Record<string, string>) => ({
  ref: { type: 'ref/resource' as const, uri },
  argument: { name: arg, value },
  ...(context ? { context: { arguments: context } } : {}),
});

describe('completion/complete from a static list', () => {
  it('filters a prompt argument\'s list by the typed prefix, without the sandbox', async () => {
    expect(await h.features.complete(prompt('content-fixture__summarize', 'tone', 'lo'), callContext())).toEqual({ completion: { values: ['long', 'longer'], total: 2, hasMore: false } });
    expect(await h.features.complete(template(`${PREFIX}notes://{id}`, 'id', 'alph'), callContext())).toEqual({ completion: { values: ['alpha', 'alphabet'], total: 2, hasMore: false } });
    expect(h.calls).toEqual([]);
  });

  it('an argument without completions gets none', async () => {
    expect((await h.features.complete(prompt('content-fixture__summarize', 'text', ''), callContext())).completion.values).toEqual([]);
    expect((await h.features.complete(template(`${PREFIX}notes://{id}`, 'other', ''), callContext())).completion.values).toEqual([]);
    expect((await h.features.complete(template(`${PREFIX}docs://readme`, 'x', ''), callContext())).completion.values).toEqual([]);
  });
});

describe('completion/complete from a handler', () => {
  it('runs the handler with the typed value and the context arguments', async () => {
    const r = await h.features.complete(template(`${PREFIX}items://{kind}/{id}`, 'id', 'i', { kind: 'book' }), callContext());
    expect(r).toEqual({ completion: { values: ['i1', 'i2', 'kind-book'], total: 3, hasMore: false } });
    expect(h.calls.at(-1)).toMatchObject({ tool: 'itemIds', kind: 'completion', outcome: 'ok' });
  });

  it('sends at most 100 values and says there are more', async () => {
    const r = await h.features.complete(prompt('content-fixture__dynamic', 'topic', 't'), callContext());
    expect(r.completion.values).toHaveLength(100);
    expect(r.completion.values[0]).toBe('t0');
    expect(r.completion.hasMore).toBe(true);
  });
});

describe('completion/complete refusals', () => {
  it.each([
    ['an unknown prompt', prompt('content-fixture__nope', 'x', '')],
    ['an unknown template', template(`${PREFIX}nope://{id}`, 'id', '')],
    ['a template of no package', template('notes://{id}', 'id', '')],
    ['a malformed ref', { ref: { type: 'ref/other' }, argument: { name: 'a', value: '' } }],
  ])('refuses %s with -32602', async (_what, params) => {
    expect((await wireErrorOf(h.features.complete(params as never, callContext()))).code).toBe(-32602);
  });
});
