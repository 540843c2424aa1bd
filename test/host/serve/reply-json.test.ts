import { afterAll, describe, expect, it } from 'vitest';
import { createJsonThread } from '../../../host/serve/json-thread.ts';
import { createReplyJson } from '../../../host/serve/reply-json.ts';

// A large result's text serialized on the host's JSON thread (real) while DLP scans it: the line the
// transport writes is, byte for byte, that of JSON.stringify(message), and a text DLP changed is never
// taken from the thread.

const thread = createJsonThread();
afterAll(() => thread.close());
const MIN = 1000;

const TRICKY = 'a "quoted" \\path\\ \n\t\u0000\u001f é € 😀 \ud800 lone </script> \u2028 ';
const big = (tag: string): string => `${tag}:${TRICKY.repeat(200)}`;
const reply = (id: number, content: unknown[]): Record<string, unknown> => ({ jsonrpc: '2.0', id, result: { content, isError: false } });
/** The bytes a line is written as: a string's UTF-8, or the Buffer itself. */
const bytesOf = (line: string | Buffer): Buffer => (typeof line === 'string' ? Buffer.from(line) : line);
const expected = (message: unknown): Buffer => Buffer.from(`${JSON.stringify(message)}\n`);

describe('replies with large texts', () => {
  it('writes the bytes of JSON.stringify(message), with the text serialized on the thread', async () => {
    expect(await thread.started()).toBe(true);
    const json = createReplyJson(thread, MIN);
    const result = { content: [{ type: 'text', text: 'small' }, { type: 'text', text: big('a') }, { type: 'image', data: 'aGk=', mimeType: 'image/png' }] };
    const early = json.begin(result);
    expect(early).toBeDefined();
    await early?.ready(result);
    const message = reply(7, result.content);
    const line = json.line(message);
    // Spliced: the line is bytes, not a string serialized again.
    expect(Buffer.isBuffer(line)).toBe(true);
    expect(Buffer.compare(bytesOf(line), expected(message))).toBe(0);
    // Used once: the same message again is serialized as it is, to the same bytes.
    const again = json.line(message);
    expect(typeof again).toBe('string');
    expect(Buffer.compare(bytesOf(again), expected(message))).toBe(0);
  });

  it('never uses the JSON of a text DLP changed: the reply carries the scrubbed text', async () => {
    const json = createReplyJson(thread, MIN);
    const original = big('4111 1111 1111 1111');
    const result = { content: [{ type: 'text', text: original }] };
    const early = json.begin(result);
    const scrubbed = { content: [{ type: 'text', text: original.replace('4111 1111 1111 1111', '[REDACTED:card]') }] };
    await early?.ready(scrubbed);
    const line = bytesOf(json.line(reply(1, scrubbed.content)));
    expect(Buffer.compare(line, expected(reply(1, scrubbed.content)))).toBe(0);
    expect(line.toString()).not.toContain('4111');
    // Nor later, for a message that would carry the original.
    expect(json.line(reply(2, result.content))).toBe(`${JSON.stringify(reply(2, result.content))}\n`);
  });

  it('starts nothing for small texts, nor when the thread cannot take the text now', () => {
    expect(createReplyJson(thread, MIN).begin({ content: [{ type: 'text', text: 'x'.repeat(MIN - 1) }] })).toBeUndefined();
    const busy = createReplyJson({ jsonBytes: () => undefined }, MIN);
    expect(busy.begin({ content: [{ type: 'text', text: big('b') }] })).toBeUndefined();
    expect(createReplyJson(thread, MIN).begin({ content: 'not an array' })).toBeUndefined();
  });

  it('serializes as before when the thread failed', async () => {
    const json = createReplyJson({ jsonBytes: () => Promise.reject(new Error('the JSON thread exited')) }, MIN);
    const result = { content: [{ type: 'text', text: big('c') }] };
    await json.begin(result)?.ready(result);
    expect(json.line(reply(3, result.content))).toBe(`${JSON.stringify(reply(3, result.content))}\n`);
  });

  it('holds at most four texts for replies not yet written: the oldest goes, its reply serializes as before', async () => {
    const made: string[] = [];
    // A stand-in thread whose "JSON" is the text's length: it shows which replies used a held form.
    const json = createReplyJson({ jsonBytes: (t) => (made.push(t), Promise.resolve(Buffer.from(`"${t.length}"`))) }, MIN);
    const results = ['d', 'e', 'f', 'g', 'h'].map((tag) => ({ content: [{ type: 'text', text: big(tag) }] }));
    for (const r of results) await json.begin(r)?.ready(r);
    expect(made).toHaveLength(5);
    const first = (results[0] as { content: unknown[] }).content;
    const last = (results[4] as { content: unknown[] }).content;
    expect(json.line(reply(4, first))).toBe(`${JSON.stringify(reply(4, first))}\n`);
    expect(bytesOf(json.line(reply(5, last))).toString()).toContain(`"text":"${big('h').length}"`);
  });

  it('serializes a message that serializes itself (its own toJSON) as it is, not with the held form', async () => {
    const json = createReplyJson(thread, MIN);
    const result = { content: [{ type: 'text', text: big('i') }] };
    await json.begin(result)?.ready(result);
    const message = { jsonrpc: '2.0', id: 6, result: { content: result.content, toJSON: () => ({ replaced: true }) } };
    const line = json.line(message);
    expect(Buffer.compare(bytesOf(line), expected(message))).toBe(0);
    expect(bytesOf(line).toString()).toBe('{"jsonrpc":"2.0","id":6,"result":{"replaced":true}}\n');
  });
});
