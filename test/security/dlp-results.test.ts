/**
 * DLP on what a package hands back (host/serve/dlp.ts): tool results, log lines (to the client and to the
 * host log), error messages, resource reads and prompts, for each action. A real fixture package
 * (test/fixtures/packages/leaky) in the real sandbox, served by the real server to the SDK's Client over
 * an in-memory link, with the real audit log and host log on disk.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, InMemoryTransport, ProtocolError } from '@modelcontextprotocol/client';
import { DEFAULT_DLP_POLICY, createSandbox } from '../../runtime/index.ts';
import type { DlpPolicy, Sandbox } from '../../runtime/index.ts';
import { homeLayout } from '../../host/home/home.ts';
import { openAudit } from '../../host/serve/audit.ts';
import { createFeatures } from '../../host/serve/features/index.ts';
import { loadAll } from '../../host/serve/loader.ts';
import type { LoadedPackage } from '../../host/serve/loader.ts';
import { createLogger } from '../../host/serve/logger.ts';
import { createConnection } from '../../host/serve/protocol/connection.ts';
import { createPaginator } from '../../host/serve/protocol/pagination.ts';
import { createRedactor } from '../../host/serve/redact.ts';
import { createRegistry } from '../../host/serve/registry.ts';
import { FIXTURES, tempDir } from '../helpers/host.ts';

const CARD = '4111 1111 1111 1111';
const TOKEN = 'ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A';
const SSN = '123-45-6789';

/**
 * Nothing of the card number: not as written, not with its digits run together, not its first group
 * standing alone. (Not "4111" anywhere: the ~500 hex digits of an audit log's MACs and hashes hold it by
 * chance, about one run in 130.)
 */
function expectNoCard(text: string): void {
  expect(text).not.toContain(CARD);
  expect(text).not.toContain(CARD.replaceAll(' ', ''));
  expect(text).not.toMatch(/(?<![0-9a-f])4111(?![0-9a-f])/i);
}

let sandbox: Sandbox;
let leaky: LoadedPackage;
const open: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  sandbox = createSandbox({ workers: 1 });
  const home = homeLayout(tempDir('dlp-results-home'));
  const { packages } = await loadAll([{ kind: 'dev', dir: join(FIXTURES, 'leaky'), grantOverrides: { slots: {} } }], { home, verify: async () => { throw new Error('dev only'); }, prefix: true });
  leaky = packages[0] as LoadedPackage;
});

afterAll(async () => {
  for (const o of open) await o.close();
  await sandbox?.close();
});

interface Served {
  readonly client: Client;
  /** The client's notifications/message lines. */
  readonly logs: unknown[];
  /** The audit log's records. */
  audit(): Record<string, unknown>[];
  /** The host log's text. */
  hostLog(): string;
}

/** The leaky package served with `dlp` over the default policy (as the home's config would set it). */
async function serve(dlp?: Partial<DlpPolicy>): Promise<Served> {
  const dir = tempDir('dlp-results');
  const audit = await openAudit(join(dir, 'audit.log'), join(dir, 'audit.key'));
  const pkg: LoadedPackage = dlp === undefined ? leaky : { ...leaky, grant: { ...leaky.grant, dlp: { ...DEFAULT_DLP_POLICY, ...dlp } } };
  const registry = createRegistry([pkg]);
  const logger = createLogger({ level: 'debug', file: join(dir, 'host.log') });
  const redact = createRedactor();
  const features = createFeatures({ registry, sandbox, audit, logger, redact });
  const connection = createConnection({ registry, sandbox, audit, logger, redact, features, paginator: createPaginator(), version: 'test' });
  const [clientEnd, serverEnd] = InMemoryTransport.createLinkedPair();
  const server = await connection.factory({ era: 'legacy' });
  await server.connect(serverEnd);
  const client = new Client({ name: 'dlp-test', version: '1' });
  const logs: unknown[] = [];
  client.setNotificationHandler('notifications/message', (n) => void logs.push(n.params.data));
  await client.connect(clientEnd);
  open.push({ close: async () => { await client.close(); await audit.close(); } });
  return {
    client,
    logs,
    audit: () => readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>),
    hostLog: () => readFileSync(join(dir, 'host.log'), 'utf8'),
  };
}

// Without the time and the audit chain's fields (w, prev, mac: host/serve/audit-chain.ts).
const dlpRecords = (s: Served): Record<string, unknown>[] => s.audit().filter((r) => r.type === 'dlp').map(({ time: _t, w: _w, prev: _p, mac: _m, ...r }) => r);
const text = (r: unknown): string => ((r as { content: { text: string }[] }).content[0] as { text: string }).text;

describe('a tool result carrying a card number', () => {
  it('is redacted by default, and a dlp audit record names the detector, never the number', async () => {
    const s = await serve();
    const r = await s.client.callTool({ name: 'leaky__card', arguments: {} });
    expect(text(r)).toBe('Your card: [REDACTED:card]');
    expect(dlpRecords(s)).toEqual([{ type: 'dlp', package: 'leaky', tool: 'card', detector: 'card', action: 'redact', where: 'result', count: 1 }]);
    expectNoCard(JSON.stringify(s.audit()));
  });

  it('with block fails the call with DATA_BLOCKED and sends nothing of the result', async () => {
    const s = await serve({ card: 'block' });
    const r = await s.client.callTool({ name: 'leaky__card', arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^DATA_BLOCKED: .*\(card\)/);
    expectNoCard(JSON.stringify(r));
    expect(r._meta?.['dev.mcp-warden/error']).toEqual({ code: 'DATA_BLOCKED', retryable: false });
    const audit = s.audit();
    expect(audit.find((a) => a.type === 'call')?.outcome).toBe('DATA_BLOCKED');
    expect(dlpRecords(s)).toEqual([{ type: 'dlp', package: 'leaky', tool: 'card', detector: 'card', action: 'block', where: 'result', count: 1 }]);
  });

  it('with log is returned unchanged, and audited', async () => {
    const s = await serve({ card: 'log' });
    const r = await s.client.callTool({ name: 'leaky__card', arguments: {} });
    expect(text(r)).toBe(`Your card: ${CARD}`);
    expect(dlpRecords(s)).toEqual([{ type: 'dlp', package: 'leaky', tool: 'card', detector: 'card', action: 'log', where: 'result', count: 1 }]);
  });

  it('with off is returned unchanged and not audited', async () => {
    const s = await serve({ card: 'off' });
    expect(text(await s.client.callTool({ name: 'leaky__card', arguments: {} }))).toBe(`Your card: ${CARD}`);
    expect(dlpRecords(s)).toEqual([]);
  });
});

describe('other things a tool hands back', () => {
  it('a token in structured content is redacted in both the structured content and its text', async () => {
    const s = await serve();
    const r = await s.client.callTool({ name: 'leaky__structured', arguments: {} });
    expect(r.structuredContent).toEqual({ token: '[REDACTED:github-token]' });
    expect(JSON.stringify(r)).not.toContain(TOKEN);
  });

  it('a token in a log line is scrubbed in the client notification and in the host log', async () => {
    const s = await serve();
    expect(text(await s.client.callTool({ name: 'leaky__logs', arguments: {} }))).toBe('done');
    expect(JSON.stringify(s.logs)).toContain('[REDACTED:github-token]');
    expect(JSON.stringify(s.logs)).not.toContain(TOKEN);
    expect(s.hostLog()).toContain('[REDACTED:github-token]');
    expect(s.hostLog()).not.toContain(TOKEN);
    expect(dlpRecords(s).map((r) => r.where)).toEqual(['log', 'log']);
  });

  it("an SSN in a tool's error message is scrubbed", async () => {
    const s = await serve();
    const r = await s.client.callTool({ name: 'leaky__throws', arguments: {} });
    expect(text(r)).toBe('TOOL_THREW: SSN [REDACTED:ssn] was refused');
    expect(dlpRecords(s)).toEqual([{ type: 'dlp', package: 'leaky', tool: 'throws', detector: 'ssn', action: 'redact', where: 'error', count: 1 }]);
  });

  it('a clean result passes untouched and unaudited', async () => {
    const s = await serve();
    expect(text(await s.client.callTool({ name: 'leaky__clean', arguments: {} }))).toBe('nothing to see: 1234');
    expect(dlpRecords(s)).toEqual([]);
  });
});

describe('resources and prompts (host/serve/features/run.ts)', () => {
  it("a resource read's text and its log line are redacted", async () => {
    const s = await serve();
    const r = await s.client.readResource({ uri: 'mcp-warden://leaky/statements://7' });
    expect(r.contents).toEqual([{ uri: 'mcp-warden://leaky/statements://7', mimeType: 'text/plain', text: 'Statement 7: card [REDACTED:card]' }]);
    expectNoCard(JSON.stringify(s.logs));
    expectNoCard(s.hostLog());
  });

  it("a resource handler's error message is redacted", async () => {
    const s = await serve();
    const e = await s.client.readResource({ uri: 'mcp-warden://leaky/statements://fail' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).message).toContain('[REDACTED:card]');
    expectNoCard((e as ProtocolError).message);
  });

  it('with block, a prompt carrying a card number fails with DATA_BLOCKED', async () => {
    const s = await serve({ card: 'block' });
    const e = await s.client.getPrompt({ name: 'leaky__leak' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as ProtocolError).data).toEqual({ code: 'DATA_BLOCKED', retryable: false });
    expectNoCard(JSON.stringify(e));
  });

  it('by default, a prompt carrying a card number is redacted', async () => {
    const s = await serve();
    const r = await s.client.getPrompt({ name: 'leaky__leak' });
    expect(r.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Pay with [REDACTED:card]' } }]);
  });
});

it('the fixture really holds the data it is meant to leak', () => {
  const source = readFileSync(join(FIXTURES, 'leaky', 'index.js'), 'utf8');
  for (const s of [CARD, TOKEN, SSN]) expect(source).toContain(s);
});
