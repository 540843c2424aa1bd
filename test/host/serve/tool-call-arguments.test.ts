import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { CallToolRequest, ServerContext } from '@modelcontextprotocol/server';
import { toolCallHandler } from '../../../host/serve/tool-call.ts';
import type { ToolCallOptions } from '../../../host/serve/tool-call.ts';

// A full collection on demand (the flag lets a new context have `gc`).
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/**
 * Runs one tools/call through the handler, its arguments as received taken from the session
 * (`argumentsOf`) and held nowhere in this test; gives a weak reference to them. The tool is unknown: the
 * handler has taken the arguments, and ends, before it needs anything but the registry.
 */
async function callOnce(signal: AbortSignal): Promise<WeakRef<object>> {
  const received = { text: 'x'.repeat(100_000).split('').join('') };
  const ref = new WeakRef(received);
  let taken: object | undefined = received;
  const options = {
    registry: { lookup: () => undefined },
    ready: Promise.resolve(),
    argumentsOf: () => {
      const a = taken;
      taken = undefined;
      return a;
    },
  } as unknown as ToolCallOptions;
  const handler = toolCallHandler(options);
  const request = { method: 'tools/call', params: { name: 'no-such-tool', arguments: {} } } as CallToolRequest;
  const ctx = { mcpReq: { id: 1, signal, requestState: () => undefined, inputResponses: undefined } } as unknown as ServerContext;
  await expect(handler(request, ctx)).rejects.toThrow(/Unknown tool/);
  return ref;
}

// The handler keeps a request's arguments as received by its signal, for the SDK's 2025-11-25 shim, which
// calls it again for the same request after an input-required result. Kept past the call, they were values
// of a long-lived WeakMap: V8's young-generation GC keeps those whatever their key, so every call's
// arguments survived and were promoted until the next full GC (issue 14, docs/performance-history.md *Fifth pass:
// garbage per call*).
describe('the arguments a tools/call received', () => {
  it('are not kept by the handler once it has answered, while the request (its signal) lives on', async () => {
    const controller = new AbortController();
    const ref = await callOnce(controller.signal);
    // A WeakRef keeps its target until the end of the job that made it.
    await new Promise((resolve) => setImmediate(resolve));
    collect();
    expect(ref.deref() === undefined).toBe(true);
    expect(controller.signal.aborted).toBe(false);
  });
});
