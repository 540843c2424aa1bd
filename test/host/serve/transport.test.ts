import { PassThrough } from 'node:stream';
import { isSpecType } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { REQUEST_SCHEMAS } from '../../../host/serve/request-dispatch.ts';
import { BoundedStdioTransport, INVALID_PARAMS, INVALID_REQUEST } from '../../../host/serve/transport.ts';

/** What the transport must do with a parsed line: the spec's full checks, in their order. */
function expected(data: unknown): 'dispatch' | number | 'dropped' {
  if (!isSpecType.JSONRPCMessage(data)) {
    const o = data as Record<string, unknown>;
    if (o && typeof o === 'object' && !Array.isArray(o) && !('method' in o) && ('result' in o || 'error' in o)) return 'dropped';
    return INVALID_REQUEST;
  }
  const m = data as { id?: unknown; method?: string };
  if (m.id !== undefined && typeof m.method === 'string' && Object.hasOwn(REQUEST_SCHEMAS, m.method)) {
    if (!(REQUEST_SCHEMAS[m.method] as (v: unknown) => boolean)(data)) return INVALID_PARAMS;
  }
  return 'dispatch';
}

async function outcomeOf(line: string): Promise<'dispatch' | number | 'dropped'> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const t = new BoundedStdioTransport(stdin, stdout, { requestSchemas: REQUEST_SCHEMAS });
  const dispatched: unknown[] = [];
  t.onmessage = (m) => dispatched.push(m);
  t.onerror = () => {};
  await t.start();
  const reply = new Promise<string>((resolve) => stdout.once('data', (b: Buffer) => resolve(b.toString())));
  stdin.write(`${line}\n`);
  // Everything is handled synchronously on 'data': a reply is already written, or nothing will be.
  await new Promise((r) => setImmediate(r));
  await t.close();
  if (dispatched.length > 0) return 'dispatch';
  const written = await Promise.race([reply, Promise.resolve(null)]);
  if (written === null) return 'dropped';
  return (JSON.parse(written) as { error: { code: number } }).error.code;
}

const call = (over: Record<string, unknown>, params: unknown = { name: 'a__b', arguments: { x: 1 } }): string =>
  JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params, ...over });

describe('the transport checks each request like the spec schema, fast path or not', () => {
  const lines: string[] = [
    call({}),
    call({ id: 'seven' }),
    call({ id: 2 ** 53 }),
    call({ id: 1.5 }),
    call({ id: null }),
    call({ id: true }),
    call({ jsonrpc: '1.0' }),
    call({ extra: 1 }),
    call({}, null),
    call({}, []),
    call({}, { name: 5 }),
    call({}, { name: 'a__b', arguments: [] }),
    call({}, { name: 'a__b', _meta: 5 }),
    call({}, { name: 'a__b', _meta: { progressToken: {} } }),
    call({}, undefined),
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"},"__proto__":{}}',
    '{"jsonrpc":"2.0","id":1,"method":"constructor","params":{}}',
    '{"jsonrpc":"2.0","id":1,"method":"__proto__","params":{}}',
    '{"jsonrpc":"2.0","id":1,"method":"toString"}',
    JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: 5 } }),
    JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
    JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 3 } }),
    JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'logging/setLevel', params: { level: 'loud' } }),
    JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'unknown/method', params: { a: 1 } }),
    JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} }),
    JSON.stringify({ jsonrpc: '2.0', id: 1, result: 5 }),
    '[1,2]',
    '5',
    'null',
  ];
  for (const line of lines) {
    it(`answers ${line.slice(0, 90)} as the full check does`, async () => {
      expect(await outcomeOf(line)).toBe(expected(JSON.parse(line)));
    });
  }
});
