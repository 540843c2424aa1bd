/**
 * A request in the plain JSON-RPC envelope goes to the SDK's request dispatch without the SDK's three
 * classifying zod parses (request-dispatch.ts, dispatchRequestsDirectly): every message must be answered exactly as
 * the SDK's own path answers it. Two SDK servers, one with the direct dispatch and one without, get the
 * same raw messages over in-memory transports; their replies are compared.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryTransport, LATEST_PROTOCOL_VERSION, Server } from '@modelcontextprotocol/server';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { dispatchRequestsDirectly } from '../../../host/serve/request-dispatch.ts';

const MESSAGES: unknown[] = [
  { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 't', version: '1' } } },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 2, method: 'ping' },
  { jsonrpc: '2.0', id: 'three', method: 'tools/list', params: {} },
  { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } },
  { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { arguments: {} } },
  { jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'echo', _meta: { progressToken: 'p' } } },
  { jsonrpc: '2.0', id: 7, method: 'no/such/method' },
  { jsonrpc: '2.0', id: 8, method: 'prompts/list' },
  { jsonrpc: '2.0', id: 9, method: 'ping', extra: true },
  { jsonrpc: '2.0', id: 10.5, method: 'ping' },
  { jsonrpc: '2.0', id: 99, result: {} },
  { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 4 } },
  { jsonrpc: '2.0', id: 'end', method: 'ping' },
];

async function repliesOf(direct: boolean): Promise<unknown[]> {
  const server = new Server({ name: 's', version: '1' }, { capabilities: { tools: {} } });
  server.setRequestHandler('tools/list', () => ({ tools: [{ name: 'echo', inputSchema: { type: 'object' } }] }));
  server.setRequestHandler('tools/call', (request) => ({ content: [{ type: 'text', text: JSON.stringify(request.params.arguments ?? null) }] }));
  server.onerror = () => {};
  const [client, transport] = InMemoryTransport.createLinkedPair();
  const replies: unknown[] = [];
  const done = new Promise<void>((resolve) => {
    client.onmessage = (m) => {
      replies.push(m);
      if ((m as { id?: unknown }).id === 'end') resolve();
    };
  });
  await server.connect(transport);
  if (direct) dispatchRequestsDirectly(server, transport);
  await client.start();
  for (const m of MESSAGES) await client.send(m as JSONRPCMessage);
  await done;
  await server.close();
  return replies.sort((a, b) => String((a as { id: unknown }).id).localeCompare(String((b as { id: unknown }).id)));
}

describe('requests in the plain envelope, dispatched without the SDK classifying them', () => {
  it('are answered exactly as the SDK answers them, and every other message too', async () => {
    const sdk = await repliesOf(false);
    const direct = await repliesOf(true);
    expect(sdk.length).toBeGreaterThanOrEqual(8);
    expect(direct).toEqual(sdk);
  });
});
