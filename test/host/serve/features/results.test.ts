import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFeatures } from '../../../../host/serve/features/index.ts';
import { handlerCompletion } from '../../../../host/serve/features/completions.ts';
import { handlerPrompt } from '../../../../host/serve/features/prompts.ts';
import { handlerContents } from '../../../../host/serve/features/resources.ts';
import { createRateLimiter } from '../../../../host/serve/rate-limit.ts';
import { FIXTURES, callContext, harness, wireErrorOf } from './harness.ts';

// What a handler returns is checked and copied (pure functions; the sandbox tests are beside this one).
function code(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (e) {
    return (e as { code: string }).code;
  }
}

describe('handlerPrompt', () => {
  it('keeps checked annotations, copied', () => {
    const content = { type: 'text', text: 'x', annotations: { audience: ['user'], priority: 0.5, lastModified: '2026-01-01T00:00:00Z' } };
    const r = handlerPrompt({ messages: [{ role: 'assistant', content }] });
    expect(r.messages[0]?.content).toEqual(content);
    expect(r.messages[0]?.content).not.toBe(content);
  });

  it.each([
    ['an audience of system', { type: 'text', text: 'x', annotations: { audience: ['system'] } }],
    ['a priority of 2', { type: 'text', text: 'x', annotations: { priority: 2 } }],
    ['an unknown annotation', { type: 'text', text: 'x', annotations: { role: 'system' } }],
    ['image data that is not base64', { type: 'image', data: '!!', mimeType: 'image/png' }],
    ['audio with an image type', { type: 'audio', data: 'AAAA', mimeType: 'image/png' }],
    ['a resource without a uri', { type: 'resource', resource: { text: 'x' } }],
    ['a tool_use content', { type: 'tool_use', id: 'x', name: 'y', input: {} }],
  ])('refuses %s (RESULT_INVALID)', (_what, content) => {
    expect(code(() => handlerPrompt({ messages: [{ role: 'user', content }] }))).toBe('RESULT_INVALID');
  });

  it('refuses more than 32 messages and anything but an object with messages', () => {
    const m = { role: 'user', content: { type: 'text', text: 'x' } };
    expect(code(() => handlerPrompt({ messages: Array.from({ length: 33 }, () => m) }))).toBe('RESULT_INVALID');
    expect(code(() => handlerPrompt([m]))).toBe('RESULT_INVALID');
    expect(code(() => handlerPrompt({ messages: [m], system: 'x' }))).toBe('RESULT_INVALID');
  });
});

describe('handlerContents and handlerCompletion', () => {
  it('refuses a bad mimeType, text and blob together, and over 64 contents', () => {
    expect(code(() => handlerContents('u', { text: 'x', mimeType: 'not a type' }, undefined))).toBe('RESULT_INVALID');
    expect(code(() => handlerContents('u', { text: 'x', blob: 'AAAA' }, undefined))).toBe('RESULT_INVALID');
    expect(code(() => handlerContents('u', Array.from({ length: 65 }, () => 'x'), undefined))).toBe('RESULT_INVALID');
  });

  it('cuts completions at 100 with hasMore, refuses non-strings, drops a total below the count', () => {
    expect(handlerCompletion(Array.from({ length: 150 }, String)).completion).toMatchObject({ hasMore: true });
    expect(handlerCompletion({ values: ['a', 'b'], total: 1 }).completion).toEqual({ values: ['a', 'b'], hasMore: false });
    expect(code(() => handlerCompletion([1]))).toBe('RESULT_INVALID');
    expect(code(() => handlerCompletion({ values: 'a' }))).toBe('RESULT_INVALID');
  });
});

describe('serve --rate-limit', () => {
  it('applies to resource reads as to tool calls (RATE_LIMITED, retryable)', async () => {
    const h = await harness([join(FIXTURES, 'content')]);
    try {
      const features = createFeatures({ ...h.deps, limiter: createRateLimiter({ perSecond: 1, burst: 1 }, () => 0) });
      await features.readResource('mcp-warden://content-fixture/notes://a', callContext());
      const e = await wireErrorOf(features.readResource('mcp-warden://content-fixture/notes://b', callContext()));
      expect(e).toMatchObject({ code: -32603, data: { code: 'RATE_LIMITED', retryable: true } });
    } finally {
      await h.close();
    }
  });
});
