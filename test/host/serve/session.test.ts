/**
 * The session layer (host/serve/session.ts) under serveStdio, with the real SDK v2 entry and server linked
 * in memory: the 2025-11-25 lifecycle on the legacy instance, and raw tools/call arguments that never pile
 * up for requests refused before their handler ran. The sandbox never runs (every call here is refused).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { createSandbox } from '../../../runtime/index.ts';
import type { Sandbox } from '../../../runtime/index.ts';
import { openAudit } from '../../../host/serve/audit.ts';
import type { Audit } from '../../../host/serve/audit.ts';
import { createFeatures } from '../../../host/serve/features/index.ts';
import { createLogger } from '../../../host/serve/logger.ts';
import { createConnection } from '../../../host/serve/protocol/connection.ts';
import type { Connection } from '../../../host/serve/protocol/connection.ts';
import { createPaginator } from '../../../host/serve/protocol/pagination.ts';
import { createRedactor } from '../../../host/serve/redact.ts';
import { createRegistry } from '../../../host/serve/registry.ts';
import { MAX_KEPT_ARGUMENTS, SessionTransport } from '../../../host/serve/session.ts';
import { tempDir } from '../../helpers/host.ts';

let sandbox: Sandbox;
let audit: Audit;
let connection: Connection;

beforeAll(async () => {
  const dir = tempDir('session');
  sandbox = createSandbox({ workers: 1 });
  audit = await openAudit(join(dir, 'audit.log'), join(dir, 'audit.key'));
  const registry = createRegistry([]);
  const logger = createLogger({ level: 'silent' });
  const redact = createRedactor();
  connection = createConnection({ registry, sandbox, audit, logger, redact, features: createFeatures({ registry, sandbox, audit, logger, redact }), paginator: createPaginator(), version: 'test' });
});

afterAll(async () => {
  await sandbox?.close();
  await audit?.close();
});

/** A client end linked to a session under serveStdio; `answers(n)` waits for n answers (an event, not a delay). */
async function open() {
  const [clientEnd, serverEnd] = InMemoryTransport.createLinkedPair();
  const session = new SessionTransport(serverEnd);
  const handle = serveStdio(connection.factory, { transport: session });
  const received: (JSONRPCMessage & { id?: unknown; error?: { code: number } })[] = [];
  let waiters: (() => void)[] = [];
  clientEnd.onmessage = (m) => {
    received.push(m);
    for (const w of waiters.splice(0)) w();
  };
  await clientEnd.start();
  const answers = async (n: number) => {
    while (received.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    waiters = [];
  };
  return { session, handle, received, answers, send: (m: Record<string, unknown>) => clientEnd.send({ jsonrpc: '2.0', ...m } as JSONRPCMessage) };
}

const call = (id: number, meta?: unknown) => ({ id, method: 'tools/call', params: { name: 'x__y', arguments: { big: 'a'.repeat(1000) }, ...(meta ? { _meta: meta } : {}) } });

describe('SessionTransport under serveStdio', () => {
  it('refuses requests before initialize on a 2025-11-25 connection, and keeps none of their arguments', async () => {
    const c = await open();
    await c.send({ id: 1, method: 'ping' });
    for (let i = 2; i < 52; i++) await c.send(call(i));
    await c.answers(51);
    expect(c.received.filter((m) => m.error?.code !== -32600)).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
    expect(c.session.kept).toBe(0);
    await c.handle.close();
  });

  it('keeps none of the arguments of 2026-07-28 calls refused for a malformed envelope', async () => {
    const c = await open();
    // The envelope claims the revision but lacks the client capabilities it requires.
    for (let i = 1; i <= 20; i++) await c.send(call(i, { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' }));
    await c.answers(20);
    expect(c.received.every((m) => m.error?.code === -32602)).toBe(true);
    expect(c.session.kept).toBe(0);
    await c.handle.close();
  });

  it('keeps at most a bounded number of arguments whatever happens downstream', async () => {
    const [clientEnd, serverEnd] = InMemoryTransport.createLinkedPair();
    const session = new SessionTransport(serverEnd);
    session.onmessage = () => {}; // nobody ever takes them
    await session.start();
    await clientEnd.start();
    for (let i = 0; i < MAX_KEPT_ARGUMENTS + 100; i++) await clientEnd.send({ jsonrpc: '2.0', ...call(i) } as JSONRPCMessage);
    expect(session.kept).toBe(MAX_KEPT_ARGUMENTS);
    // The oldest went first: the newest are still there.
    expect(session.takeArguments(MAX_KEPT_ARGUMENTS + 99)).toEqual({ big: 'a'.repeat(1000) });
    expect(session.takeArguments(0)).toBeUndefined();
    await session.close();
  });
});
