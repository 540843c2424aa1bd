import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ERROR_META_KEY, toolErrorResult } from '../../../host/serve/tool-result.ts';
import { RETRYABLE_CODES, SANDBOX_ERROR_CODES, SandboxError } from '../../../runtime/errors.ts';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../../helpers/sandbox.ts';

// Overload is queued per package, not refused: a package's calls past its `concurrency` wait in its own
// FIFO queue; only past the queue's depth is a call refused, with a code that says "retry later".
const sandbox = newSandbox({ queueDepth: 3 });
afterAll(() => sandbox.close());

const tools = inlinePackage(`export default {
  echo: async ({ i }) => { await new Promise((r) => setTimeout(r, 5)); return i; },
  hold: ({ tag }) => { console.log(tag); return new Promise(() => {}); },
}`);

/** A promise resolved when the call logs `tag` (it is running inside its isolate). */
function logged(tag: string): { seen: Promise<void>; onLog: (e: { message: string }) => void } {
  let resolve!: () => void;
  const seen = new Promise<void>((r) => (resolve = r));
  return { seen, onLog: (e) => e.message === tag && resolve() };
}

describe('per-package queues', () => {
  it('runs 32 concurrent calls of one package, all successfully, at the default concurrency', async () => {
    const roomy = newSandbox();
    try {
      const L = limits({ wallMs: 30_000, cpuMs: 2_000 });
      expect(L.concurrency).toBe(4);
      const results = await Promise.all(Array.from({ length: 32 }, (_, i) => roomy.run(tools, 'echo', { i }, NO_GRANT, L)));
      expect(results.map((r) => r.value)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    } finally {
      await roomy.close();
    }
  });

  it('refuses a call past the queue depth with the retryable CONCURRENCY_LIMIT, without running it', async () => {
    const pkg = inlinePackage(`export default { hold: ({ tag }) => { console.log(tag); return new Promise(() => {}); } }`);
    const one = limits({ concurrency: 1, wallMs: 60_000 });
    const running = logged('running');
    const ran: string[] = [];
    const onLog = (e: { message: string }) => {
      ran.push(e.message);
      running.onLog(e);
    };
    const tags = ['running', 'q1', 'q2', 'q3'];
    const aborts = tags.map(() => new AbortController());
    const calls = tags.map((tag, i) => codeOf(sandbox.run(pkg, 'hold', { tag }, NO_GRANT, one, { signal: aborts[i]!.signal, onLog })));
    await running.seen;
    const refused = sandbox.run(pkg, 'hold', { tag: 'refused' }, NO_GRANT, one, { onLog });
    await expect(refused).rejects.toMatchObject({ code: 'CONCURRENCY_LIMIT', retryable: true });
    // The queued calls first, so that none of them is started when the running one ends.
    for (const ac of [...aborts].reverse()) ac.abort();
    expect(await Promise.all(calls)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED', 'CANCELLED']);
    // Only the running call reached its isolate: the queued ones were cancelled where they waited.
    expect(ran).toEqual(['running']);
  });

  it('takes a cancelled call out of its queue, and runs the next one when the running call ends', async () => {
    const one = limits({ concurrency: 1, wallMs: 60_000 });
    const first = new AbortController();
    const running = logged('first');
    const held = codeOf(sandbox.run(tools, 'hold', { tag: 'first' }, NO_GRANT, one, { signal: first.signal, onLog: running.onLog }));
    await running.seen;
    const dropped = new AbortController();
    let droppedRan = false;
    const cancelled = codeOf(sandbox.run(tools, 'hold', { tag: 'dropped' }, NO_GRANT, one, { signal: dropped.signal, onLog: () => (droppedRan = true) }));
    const next = sandbox.run(tools, 'echo', { i: 7 }, NO_GRANT, one);
    dropped.abort();
    expect(await cancelled).toBe('CANCELLED');
    first.abort();
    expect(await held).toBe('CANCELLED');
    await expect(next).resolves.toMatchObject({ value: 7 });
    expect(droppedRan).toBe(false);
  });
});

describe('retryable codes', () => {
  it('agree between RETRYABLE_CODES, docs/errors.md and the MCP result', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Sandbox'), doc.indexOf('## Host'));
    const column = new Map([...section.matchAll(/^\| `([A-Z_]+)` \| ([a-z]+) \|/gm)].map((m) => [m[1], m[2]]));
    for (const code of SANDBOX_ERROR_CODES) {
      expect([code, column.get(code) === 'yes']).toEqual([code, RETRYABLE_CODES.has(code)]);
      const result = toolErrorResult(new SandboxError(code, 'x'), (s) => s);
      expect([code, (result._meta?.[ERROR_META_KEY] as { retryable: boolean }).retryable]).toEqual([code, RETRYABLE_CODES.has(code)]);
    }
    expect(RETRYABLE_CODES.has('CONCURRENCY_LIMIT')).toBe(true);
  });
});
