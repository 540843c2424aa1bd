import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createJsonThread } from '../../../host/serve/json-thread.ts';
import type { JsonThread } from '../../../host/serve/json-thread.ts';

// The host's JSON thread (a real node:worker_threads thread): the JSON of a text made there is, byte for
// byte, the main thread's, it takes one text at a time, and it never makes a caller wait for it to start.

const threads: JsonThread[] = [];
afterEach(async () => {
  for (const t of threads.splice(0)) await t.close();
});
const thread = (): JsonThread => {
  const t = createJsonThread();
  threads.push(t);
  return t;
};

const TRICKY = 'a "quoted" \\path\\ \n\t\r\u0000\u001f\u007f é € 😀 \ud800 lone \udc00 </script> \u2028\u2029';
const utf8 = (bytes: Uint8Array | undefined): string => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

describe('the JSON thread', () => {
  it('answers undefined at once while it starts, instead of making the caller wait', async () => {
    const t = thread();
    expect(t.jsonBytes('x')).toBeUndefined();
    expect(await t.started()).toBe(true);
  });

  it("gives the UTF-8 of a text's JSON string form, exactly what the main thread's JSON.stringify encodes to", async () => {
    const t = thread();
    await t.started();
    const text = TRICKY.repeat(5000);
    const bytes = await t.jsonBytes(text);
    expect(Buffer.compare(Buffer.from(bytes as Uint8Array), Buffer.from(JSON.stringify(text)))).toBe(0);
  });

  it('takes one text at a time: a second one while the first is on the thread is not taken', async () => {
    const t = thread();
    await t.started();
    const first = t.jsonBytes('one');
    expect(first).toBeDefined();
    expect(t.jsonBytes('two')).toBeUndefined();
    expect(utf8(await first)).toBe('"one"');
    expect(utf8(await t.jsonBytes('three'))).toBe('"three"');
  });

  it('is given up for good when its module fails to start: texts are not taken, and nothing throws', async () => {
    const t = createJsonThread(join(tmpdir(), 'mcp-warden-no-such-json-thread.js'));
    threads.push(t);
    expect(t.jsonBytes('x')).toBeUndefined();
    expect(await t.started()).toBe(false);
    expect(t.jsonBytes('y')).toBeUndefined();
    expect(await t.started()).toBe(false);
  });

  it('fails the text in flight when it is closed, and starts again when asked after', async () => {
    const t = thread();
    await t.started();
    const inFlight = t.jsonBytes('x'.repeat(1 << 20));
    const outcome = inFlight?.then(
      () => 'made',
      (e: unknown) => (e as Error).message,
    );
    await t.close();
    expect(await outcome).toMatch(/closed/);
    expect(await t.started()).toBe(true);
    expect(utf8(await t.jsonBytes('again'))).toBe('"again"');
  });
});
