import { afterAll, describe, expect, it } from 'vitest';
import { createJsonThread } from '../../../host/serve/json-thread.ts';
import { createReplyJson } from '../../../host/serve/reply-json.ts';

// A large result's text serialized on the host's JSON thread (real) while DLP scans it: the line the
// transport writes is JSON.stringify(message) to the byte, and a text DLP changed is never taken from it.

const thread = createJsonThread();
afterAll(() => thread.close());
const MIN = 1000;

const TRICKY = 'a "quoted" \\path\\ \n\t\u0000\u001f é € 😀 \ud800 lone </script> \u2028 ';
const big = (tag: string): string => `${tag}:${TRICKY.repeat(200)}`;
const reply = (id: number, content: unknown[]): Record<string, unknown> => ({ jsonrpc: '2.0', id, result: { content, isError: false } });

describe('replies with large texts', () => {
  it('writes the line JSON.stringify would, with the text serialized on the thread', async () => {
    expect(await thread.started()).toBe(true);
    const json = createReplyJson(thread, MIN);
    const result = { content: [{ type: 'text', text: 'small' }, { type: 'text', text: big('a') }] };
    const early = json.begin(result);
    expect(early).toBeDefined();
    await early?.ready(result);
    const message = reply(7, result.content);
    const expected = JSON.stringify(message);
    expect(json.serialize(message)).toBe(expected);
    // Used once: the same message again serializes as it is (the same text).
    expect(json.serialize(message)).toBe(expected);
  });

  it('never uses the JSON of a text DLP changed: the reply carries the scrubbed text', async () => {
    const json = createReplyJson(thread, MIN);
    const original = big('4111 1111 1111 1111');
    const result = { content: [{ type: 'text', text: original }] };
    const early = json.begin(result);
    const scrubbed = { content: [{ type: 'text', text: original.replace('4111 1111 1111 1111', '[REDACTED:card]') }] };
    await early?.ready(scrubbed);
    const line = json.serialize(reply(1, scrubbed.content));
    expect(line).toBe(JSON.stringify(reply(1, scrubbed.content)));
    expect(line).not.toContain('4111');
    // Nor later, for a message that would carry the original.
    expect(json.serialize(reply(2, result.content))).toBe(JSON.stringify(reply(2, result.content)));
  });

  it('starts nothing for small texts, nor when the thread cannot take the text now', () => {
    expect(createReplyJson(thread, MIN).begin({ content: [{ type: 'text', text: 'x'.repeat(MIN - 1) }] })).toBeUndefined();
    const busy = createReplyJson({ stringify: () => undefined }, MIN);
    expect(busy.begin({ content: [{ type: 'text', text: big('b') }] })).toBeUndefined();
    expect(createReplyJson(thread, MIN).begin({ content: 'not an array' })).toBeUndefined();
  });

  it('serializes as before when the thread failed', async () => {
    const json = createReplyJson({ stringify: () => Promise.reject(new Error('the JSON thread exited')) }, MIN);
    const result = { content: [{ type: 'text', text: big('c') }] };
    await json.begin(result)?.ready(result);
    expect(json.serialize(reply(3, result.content))).toBe(JSON.stringify(reply(3, result.content)));
  });

  it('holds at most four texts for replies not yet written: the oldest goes, its reply serializes as before', async () => {
    const made: string[] = [];
    const json = createReplyJson({ stringify: (t) => (made.push(t), Promise.resolve(`"${t.length}"`)) }, MIN);
    const results = ['d', 'e', 'f', 'g', 'h'].map((tag) => ({ content: [{ type: 'text', text: big(tag) }] }));
    for (const r of results) await json.begin(r)?.ready(r);
    expect(made).toHaveLength(5);
    // The stand-in thread's "JSON" gives away which replies used the held form.
    expect(json.serialize(reply(4, (results[0] as { content: unknown[] }).content))).toBe(JSON.stringify(reply(4, (results[0] as { content: unknown[] }).content)));
    expect(json.serialize(reply(5, (results[4] as { content: unknown[] }).content))).toContain(`"text":"${big('h').length}"`);
  });
});
