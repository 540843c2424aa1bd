/**
 * The connection's change notifications (host/serve/protocol/connection.ts) with the real SDK v2 server
 * and client linked in memory: resources/subscribe (2025-11-25), resources/updated for a subscribed URI
 * whose package a reload updated or removed, list_changed for what changed, and cursors of an older list
 * refused. The features are a fixed table (what the feature handlers would serve): the sandbox never runs.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, InMemoryTransport, ProtocolError } from '@modelcontextprotocol/client';
import type { Resource } from '@modelcontextprotocol/server';
import { createSandbox } from '../../../../runtime/index.ts';
import type { Sandbox } from '../../../../runtime/index.ts';
import { openAudit } from '../../../../host/serve/audit.ts';
import type { Audit } from '../../../../host/serve/audit.ts';
import type { Features } from '../../../../host/serve/features/call-context.ts';
import { createLogger } from '../../../../host/serve/logger.ts';
import { createConnection } from '../../../../host/serve/protocol/connection.ts';
import type { Connection } from '../../../../host/serve/protocol/connection.ts';
import { createPaginator } from '../../../../host/serve/protocol/pagination.ts';
import { createRedactor } from '../../../../host/serve/redact.ts';
import { createRegistry } from '../../../../host/serve/registry.ts';
import { WireError } from '../../../../host/serve/tool-result.ts';
import { tempDir } from '../../../helpers/host.ts';

const RESOURCES: Resource[] = [
  { uri: 'mcp-warden://a/one', name: 'one' },
  { uri: 'mcp-warden://a/two', name: 'two' },
  { uri: 'mcp-warden://b/three', name: 'three' },
];

const features: Features = {
  listResources: () => structuredClone(RESOURCES),
  listResourceTemplates: () => [],
  readResource: async (uri) => {
    throw new WireError(-32002, 'Resource not found', { uri });
  },
  listPrompts: () => [],
  getPrompt: async () => {
    throw new WireError(-32602, 'Unknown prompt');
  },
  complete: async () => ({ completion: { values: [] } }),
  packageOfUri: (uri) => (uri.startsWith('mcp-warden://a/') ? 'a' : uri.startsWith('mcp-warden://b/') ? 'b' : undefined),
};

let sandbox: Sandbox;
let audit: Audit;
let connection: Connection;
let client: Client;
const seen: { method: string; uri?: string }[] = [];
let waiters: (() => void)[] = [];

/** Resolves once `n` notifications have been seen (an event, not a delay). */
async function notifications(n: number): Promise<void> {
  while (seen.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
}

beforeAll(async () => {
  const dir = tempDir('connection');
  sandbox = createSandbox({ workers: 1 });
  audit = await openAudit(join(dir, 'audit.log'), join(dir, 'audit.key'));
  connection = createConnection({
    registry: createRegistry([]),
    sandbox,
    audit,
    logger: createLogger({ level: 'silent' }),
    redact: createRedactor(),
    features,
    paginator: createPaginator({ pageSize: 2 }),
    version: 'test',
  });
  const [clientEnd, serverEnd] = InMemoryTransport.createLinkedPair();
  const server = await connection.factory({ era: 'legacy' });
  await server.connect(serverEnd);
  client = new Client({ name: 'connection-test', version: '1' });
  for (const method of ['notifications/resources/updated', 'notifications/resources/list_changed', 'notifications/tools/list_changed', 'notifications/prompts/list_changed'] as const) {
    client.setNotificationHandler(method, (n) => {
      seen.push({ method, ...((n.params as { uri?: string } | undefined)?.uri !== undefined ? { uri: (n.params as { uri: string }).uri } : {}) });
      for (const w of waiters.splice(0)) w();
    });
  }
  await client.connect(clientEnd);
});

afterAll(async () => {
  await client?.close();
  await sandbox?.close();
  await audit?.close();
});

describe('a 2025-11-25 connection', () => {
  it('subscribes only to URIs a served package answers for', async () => {
    await expect(client.subscribeResource({ uri: 'mcp-warden://a/one' })).resolves.toEqual({});
    await expect(client.subscribeResource({ uri: 'mcp-warden://b/three' })).resolves.toEqual({});
    const e = await client.subscribeResource({ uri: 'mcp-warden://zzz/x' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).data).toEqual({ uri: 'mcp-warden://zzz/x' });
  });

  it('after a reload, sends resources/updated for the subscribed URIs of changed packages, and the list changes', async () => {
    // (listResources() walks every page itself: the raw request gets one page and its cursor.)
    const cursor = (await client.request({ method: 'resources/list', params: {} })).nextCursor;
    expect(cursor).toBeDefined();
    seen.length = 0;
    waiters = [];
    // Package a was updated (b was not): a/one is subscribed, a/two is not.
    await connection.announce({ tools: true, resources: true, prompts: false, packages: new Set(['a']), uris: ['mcp-warden://a/one', 'mcp-warden://a/two'] });
    await notifications(3);
    expect(seen).toEqual([{ method: 'notifications/tools/list_changed' }, { method: 'notifications/resources/list_changed' }, { method: 'notifications/resources/updated', uri: 'mcp-warden://a/one' }]);
    // A cursor of the list before the reload is refused: the client lists again from the start.
    const stale = await client.request({ method: 'resources/list', params: { cursor } }).catch((x: unknown) => x);
    expect((stale as ProtocolError).code).toBe(-32602);
    expect((await client.listResources()).resources).toHaveLength(3);
  });

  it('sends nothing for an unsubscribed URI', async () => {
    await client.unsubscribeResource({ uri: 'mcp-warden://a/one' });
    seen.length = 0;
    await connection.announce({ tools: false, resources: false, prompts: true, packages: new Set(['a']), uris: ['mcp-warden://a/one'] });
    await notifications(1);
    expect(seen).toEqual([{ method: 'notifications/prompts/list_changed' }]);
  });
});
