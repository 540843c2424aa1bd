/**
 * Both protocol revisions over real stdio to the built CLI (issue 9): a 2025-11-25 client (the v1 SDK's
 * Client: initialize) and a 2026-07-28 client (the v2 SDK's Client pinned to 2026-07-28: server/discover,
 * per-request _meta) against hosts serving the same home, in one test; and the revision rules a client of
 * either revision relies on, spoken line by line. No assertion depends on timing: each waits for the
 * messages it needs (notifications are written before the response of the request they belong to).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as LegacyStdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LoggingMessageNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { RawHost } from '../helpers/raw-host.ts';
import { rejectionOf, rpcCodeOf } from '../helpers/codes.ts';
import { CLI, EXAMPLES, FIXTURES, ROOT, childEnv, ensureBuilt, tempDir } from '../helpers/host.ts';
import { digestTree, writeSealedLock } from '../helpers/installed.ts';

const MODERN = '2026-07-28';
const LEGACY = '2025-11-25';
/** Small pages, so that the five tools of the fixture take three. */
const PAGE_SIZE = '2';

const home = tempDir('revisions');
const args = [CLI, 'serve', '--home', home, '--workers', '1', '--dev', join(FIXTURES, 'chatty')];
const env = childEnv({ MCP_WARDEN_PAGE_SIZE: PAGE_SIZE });

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.allSettled(closers.map((c) => c()));
});

/** The data of every notifications/message a client received, as text. */
type Logged = string[];

async function legacyClient(): Promise<{ client: LegacyClient; logged: Logged }> {
  ensureBuilt();
  const client = new LegacyClient({ name: 'legacy-test', version: '1.0.0' });
  const logged: Logged = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logged.push(`${n.params.level}:${JSON.stringify(n.params.data)}`);
  });
  await client.connect(new LegacyStdio({ command: process.execPath, args, env, stderr: 'pipe', cwd: ROOT }));
  closers.push(() => client.close());
  return { client, logged };
}

async function modernClient(): Promise<{ client: Client; logged: Logged }> {
  ensureBuilt();
  const client = new Client({ name: 'modern-test', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
  const logged: Logged = [];
  client.setNotificationHandler('notifications/message', (n) => {
    logged.push(`${n.params.level}:${JSON.stringify(n.params.data)}`);
  });
  await client.connect(new StdioClientTransport({ command: process.execPath, args, env, stderr: 'pipe', cwd: ROOT }));
  closers.push(() => client.close());
  return { client, logged };
}


const ALL_TOOLS = ['chatty__flood', 'chatty__one', 'chatty__say', 'chatty__three', 'chatty__two'];

describe('one home served to a 2025-11-25 client and a 2026-07-28 client', () => {
  it('serves both revisions: handshake or discover, ping, paginated tools/list, tools/call with logging, invalid cursors', async () => {
    const [legacy, modern] = await Promise.all([legacyClient(), modernClient()]);

    // Lifecycle: initialize (2025-11-25) and server/discover (2026-07-28) both advertise the same features.
    expect(legacy.client.getServerVersion()?.name).toBe('mcp-warden');
    expect(modern.client.getNegotiatedProtocolVersion()).toBe(MODERN);
    for (const caps of [legacy.client.getServerCapabilities(), modern.client.getServerCapabilities()]) {
      expect(caps).toMatchObject({ tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, prompts: { listChanged: true }, completions: {}, logging: {} });
    }

    // ping: 2025-11-25 has it; 2026-07-28 removed it (its client refuses to send it).
    await expect(legacy.client.ping()).resolves.toEqual({});
    await expect(modern.client.ping()).rejects.toThrow();

    // tools/list page by page: opaque cursors, pages of PAGE_SIZE, the whole list once.
    // (The v2 client's listTools() without a cursor walks every page itself: its raw request gets one page.)
    for (const list of [(cursor?: string) => legacy.client.listTools(cursor ? { cursor } : {}), (cursor?: string) => modern.client.request({ method: 'tools/list', params: cursor ? { cursor } : {} })]) {
      const names: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await list(cursor);
        expect(page.tools.length).toBeLessThanOrEqual(Number(PAGE_SIZE));
        names.push(...page.tools.map((t) => t.name));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined);
      expect(pages).toBe(3);
      expect(names).toEqual(ALL_TOOLS);
    }
    expect((await modern.client.listTools()).tools.map((t) => t.name)).toEqual(ALL_TOOLS);

    // An invalid cursor is refused with -32602, on both revisions.
    expect(rpcCodeOf(await rejectionOf(legacy.client.listTools({ cursor: 'bogus' })))).toBe(-32602);
    expect(rpcCodeOf(await rejectionOf(modern.client.listTools({ cursor: 'bogus' })))).toBe(-32602);

    // Logging, 2025-11-25: every level until logging/setLevel, then only at or above it.
    await legacy.client.callTool({ name: 'chatty__say', arguments: { tag: 'L1' } });
    expect(legacy.logged.filter((l) => l.includes('L1'))).toEqual(['debug:"L1 debug"', 'info:"L1 info"', 'warning:{"message":"L1 warn","data":{"tag":"L1"}}', 'error:"L1 error"']);
    await legacy.client.setLoggingLevel('warning');
    const said = await legacy.client.callTool({ name: 'chatty__say', arguments: { tag: 'L2' } });
    expect(said.content).toEqual([{ type: 'text', text: 'L2' }]);
    expect(legacy.logged.filter((l) => l.includes('L2'))).toEqual(['warning:{"message":"L2 warn","data":{"tag":"L2"}}', 'error:"L2 error"']);

    // Logging, 2026-07-28: nothing for a request without a log level in _meta, then the request's own level.
    await modern.client.callTool({ name: 'chatty__say', arguments: { tag: 'M1' } });
    await modern.client.callTool({ name: 'chatty__say', arguments: { tag: 'M2' }, _meta: { 'io.modelcontextprotocol/logLevel': 'error' } });
    expect(modern.logged.filter((l) => l.includes('M1'))).toEqual([]);
    expect(modern.logged.filter((l) => l.includes('M2'))).toEqual(['error:"M2 error"']);
    // …and the revision has no logging/setLevel.
    await expect(modern.client.setLoggingLevel('debug')).rejects.toThrow();

    // A flood of log lines is cut at 50 per call, then one line says how many were dropped.
    const before = legacy.logged.length;
    await legacy.client.callTool({ name: 'chatty__flood', arguments: { lines: 200 } });
    const flood = legacy.logged.slice(before);
    expect(flood.length).toBeLessThanOrEqual(51);
    expect(flood.at(-1)).toMatch(/^warning:"\d+ log lines dropped/);
  });
});

describe('progress and cancellation on 2026-07-28', () => {
  it('forwards progress and stops a cancelled call in the sandbox; the next call is served', async () => {
    ensureBuilt();
    const crunchHome = tempDir('revisions-cancel');
    const client = new Client({ name: 'modern-cancel', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--home', crunchHome, '--workers', '1', '--dev', join(EXAMPLES, 'number-crunch')], env: childEnv(), stderr: 'pipe', cwd: ROOT }));
    closers.push(() => client.close());
    const controller = new AbortController();
    let sawProgress = false;
    const pending = client.callTool(
      { name: 'number-crunch__iterated_hash', arguments: { text: 'x', iterations: 10_000_000 } },
      {
        signal: controller.signal,
        onprogress: () => {
          if (!sawProgress) {
            sawProgress = true;
            controller.abort();
          }
        },
      },
    );
    await expect(pending).rejects.toThrow();
    expect(sawProgress).toBe(true);
    const next = await client.callTool({ name: 'number-crunch__count_primes', arguments: { limit: 100 } });
    expect(next.isError).not.toBe(true);
    // The audit trail records the cancelled call (once the sandbox has stopped it: waited for, not timed).
    await expect.poll(() => readFileSync(join(crunchHome, 'audit.log'), 'utf8'), { timeout: 60_000 }).toMatch(/"tool":"iterated_hash"[^\n]*"outcome":"CANCELLED"/);
  });
});

describe('a reload, told to clients of both revisions', () => {
  it('sends tools/list_changed to a 2025-11-25 client and on a 2026-07-28 client\'s subscriptions/listen stream', async () => {
    ensureBuilt();
    const installedHome = tempDir('revisions-reload');
    const install = (name: string) => {
      mkdirSync(join(installedHome, 'packages'), { recursive: true });
      cpSync(join(FIXTURES, name), join(installedHome, 'packages', `${name}@1.0.0`), { recursive: true });
    };
    const entry = (name: string) => {
      const dir = `packages/${name}@1.0.0`;
      return { version: '1.0.0', integrity: `sha512-${'A'.repeat(86)}==`, dir, grant: { net: [], fs: [], slots: {} }, installedAt: new Date().toISOString(), files: digestTree(join(installedHome, dir)) };
    };
    install('greeter');
    writeSealedLock(installedHome, { greeter: entry('greeter') });
    const serveArgs = [CLI, 'serve', '--home', installedHome, '--workers', '1'];

    const legacy = new LegacyClient({ name: 'legacy-reload', version: '1.0.0' });
    const legacyChanged = new Promise<void>((resolve) => legacy.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
    await legacy.connect(new LegacyStdio({ command: process.execPath, args: serveArgs, env: childEnv(), stderr: 'pipe', cwd: ROOT }));
    closers.push(() => legacy.close());

    const modern = new Client({ name: 'modern-reload', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
    const modernChanged = new Promise<void>((resolve) => modern.setNotificationHandler('notifications/tools/list_changed', () => resolve()));
    await modern.connect(new StdioClientTransport({ command: process.execPath, args: serveArgs, env: childEnv(), stderr: 'pipe', cwd: ROOT }));
    closers.push(() => modern.close());
    const subscription = await modern.listen({ toolsListChanged: true });
    closers.push(async () => subscription.close());

    // Both have listed the tools (the packages are loaded) before the home changes.
    expect((await legacy.listTools()).tools.map((t) => t.name)).toEqual(['greeter__greet']);
    expect((await modern.listTools()).tools.map((t) => t.name)).toEqual(['greeter__greet']);
    install('chatty');
    writeSealedLock(installedHome, { greeter: entry('greeter'), chatty: entry('chatty') });
    await Promise.all([legacyChanged, modernChanged]);
    expect((await modern.listTools({ cursor: undefined })).tools.map((t) => t.name)).toContain('chatty__say');
  });
});


const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' } };

describe('the versioning rules, on the wire', () => {
  it('answers an initialize asking for 2026-07-28 with 2025-11-25, the revision initialize negotiates', async () => {
    const host = new RawHost(args, env, closers);
    const answer = await host.ask({ id: 1, method: 'initialize', params: { protocolVersion: MODERN, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    expect((answer.result as { protocolVersion: string }).protocolVersion).toBe(LEGACY);
  });

  it('serves 2026-07-28 without a handshake: resultType on results, no ping, no logging/setLevel, no resources/subscribe', async () => {
    const host = new RawHost(args, env, closers);
    const discover = await host.ask({ id: 1, method: 'server/discover', params: { _meta: envelope } });
    expect(discover.result).toMatchObject({ supportedVersions: [MODERN], resultType: 'complete' });
    const list = await host.ask({ id: 2, method: 'tools/list', params: { _meta: envelope } });
    expect(list.result).toMatchObject({ resultType: 'complete' });
    for (const [id, method, params] of [
      [3, 'ping', {}],
      [4, 'logging/setLevel', { level: 'debug' }],
      [5, 'resources/subscribe', { uri: 'test://x' }],
    ] as const) {
      const answer = await host.ask({ id, method, params: { ...params, _meta: envelope } });
      expect((answer.error as { code: number }).code).toBe(-32601);
    }
  });

  it('serves a client that probes with server/discover, then initializes, as a 2025-11-25 session (lifecycle included)', async () => {
    const host = new RawHost(args, env, closers);
    expect((await host.ask({ id: 1, method: 'server/discover', params: { _meta: envelope } })).result).toMatchObject({ supportedVersions: [MODERN] });
    const refused = await host.ask({ id: 2, method: 'tools/list', params: {} });
    expect((refused.error as { code: number }).code).toBe(-32600);
    const init = await host.ask({ id: 3, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    expect((init.result as { protocolVersion: string }).protocolVersion).toBe(LEGACY);
    expect((await host.ask({ id: 4, method: 'tools/list', params: {} })).result).toMatchObject({ tools: expect.any(Array) });
    expect(((await host.ask({ id: 5, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })).error as { code: number }).code).toBe(-32600);
  });

  it('validates 2026-07-28 tools/call arguments as received: an own "__proto__" key is refused by a strict schema', async () => {
    const host = new RawHost(args, env, closers);
    const line = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'chatty__say', arguments: { tag: 'p' }, _meta: envelope } }).replace('"tag"', '"__proto__":{"polluted":true},"tag"');
    const r = (await host.ask(line, 1)).result as { isError?: boolean; content: unknown };
    expect(r.isError).toBe(true);
    expect(JSON.stringify(r.content)).toContain('INVALID_ARGUMENTS');
  });

  // The SDK v2 encodes "resource not found" as -32602 with data { uri } on both revisions (the
  // 2026-07-28 code; 2025-11-25 named -32002, which its clients are told to accept alongside): see
  // docs/mcp-features.md.
  it('answers an unknown resource and an unknown prompt with -32602 on both revisions', async () => {
    const legacy = new RawHost(args, env, closers);
    await legacy.ask({ id: 1, method: 'initialize', params: { protocolVersion: LEGACY, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    const modern = new RawHost(args, env, closers);
    const meta = { _meta: envelope };
    for (const [host, p, notFound] of [
      [legacy, {}, -32602],
      [modern, meta, -32602],
    ] as const) {
      expect(((await host.ask({ id: 10, method: 'resources/read', params: { uri: 'test://nowhere', ...p } })).error as { code: number }).code).toBe(notFound);
      expect(((await host.ask({ id: 11, method: 'prompts/get', params: { name: 'nope', ...p } })).error as { code: number }).code).toBe(-32602);
    }
    // 2025-11-25 subscriptions: only to a URI a served package answers for.
    expect((await legacy.ask({ id: 12, method: 'resources/subscribe', params: { uri: 'test://nowhere' } })).error).toMatchObject({ code: -32602, data: { uri: 'test://nowhere' } });
    expect((await legacy.ask({ id: 13, method: 'resources/unsubscribe', params: { uri: 'test://nowhere' } })).result).toEqual({});
  });

  it('refuses a 2026-07-28 request naming an unknown revision with -32022 and the supported list', async () => {
    const host = new RawHost(args, env, closers);
    const answer = await host.ask({ id: 1, method: 'tools/list', params: { _meta: { ...envelope, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } } });
    expect(answer.error).toMatchObject({ code: -32022, data: { supported: [MODERN], requested: '2099-01-01' } });
  });
});

describe('serve --no-prefix', () => {
  it('refuses to start, with one line and its code, when more than one package would be served', async () => {
    ensureBuilt();
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [CLI, 'serve', '--home', tempDir('noprefix'), '--no-prefix', '--dev', join(FIXTURES, 'chatty'), '--dev', join(FIXTURES, 'greeter')], { env: childEnv() }, (error, _stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr });
      });
      child.stdin?.end();
    });
    expect(code).toBe(2);
    const refusal = stderr.split('\n').filter((l) => l.startsWith('mcp-warden serve:'));
    expect(refusal).toHaveLength(1);
    expect(refusal[0]).toMatch(/^mcp-warden serve: PREFIX_REQUIRED: --no-prefix serves exactly one package, but 2 would be served/);
  });

  it('serves the one package it is given', async () => {
    ensureBuilt();
    const client = new LegacyClient({ name: 'noprefix-test', version: '1.0.0' });
    await client.connect(new LegacyStdio({ command: process.execPath, args: [CLI, 'serve', '--home', tempDir('noprefix-one'), '--workers', '1', '--no-prefix', '--dev', join(FIXTURES, 'chatty')], env: childEnv(), stderr: 'pipe', cwd: ROOT }));
    closers.push(() => client.close());
    expect((await client.listTools()).tools).toHaveLength(5);
  });
});
