/**
 * Input-required results over real stdio to the built CLI: a tool (test/fixtures/packages/asks) asks the
 * user to confirm by elicitation. A 2025-11-25 client gets a real elicitation/create request (the SDK's
 * legacy shim) and a 2026-07-28 client an input_required result that its driver fulfils; both get the
 * confirmed result. A declined elicitation gets the tool's "declined" result; a forged or replayed
 * requestState gets -32602. No assertion depends on timing.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as LegacyStdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { RawHost } from '../helpers/raw-host.ts';
import { CLI, FIXTURES, ROOT, childEnv, ensureBuilt, tempDir } from '../helpers/host.ts';

const MODERN = '2026-07-28';
const home = tempDir('input-required');
const args = [CLI, 'serve', '--home', home, '--workers', '1', '--dev', join(FIXTURES, 'asks')];
const env = childEnv({});

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.allSettled(closers.map((c) => c()));
});

type Answer = { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, string | number | boolean | string[]> };

async function legacyClient(answer: Answer, asked: string[], capabilities: Record<string, unknown> = { elicitation: { form: {} } }): Promise<LegacyClient> {
  ensureBuilt();
  const client = new LegacyClient({ name: 'legacy-test', version: '1.0.0' }, { capabilities });
  if (capabilities.elicitation) {
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(request.params.message);
      return answer;
    });
  }
  await client.connect(new LegacyStdio({ command: process.execPath, args, env, stderr: 'pipe', cwd: ROOT }));
  closers.push(() => client.close());
  return client;
}

async function modernClient(answer: Answer, asked: string[], capabilities: Record<string, unknown> = { elicitation: { form: {} } }): Promise<Client> {
  ensureBuilt();
  const client = new Client({ name: 'modern-test', version: '1.0.0' }, { capabilities, versionNegotiation: { mode: { pin: MODERN } } });
  if (capabilities.elicitation) {
    client.setRequestHandler('elicitation/create', (request) => {
      asked.push(request.params.message);
      return answer;
    });
  }
  await client.connect(new StdioClientTransport({ command: process.execPath, args, env, stderr: 'pipe', cwd: ROOT }));
  closers.push(() => client.close());
  return client;
}

function textOf(result: unknown): string {
  return ((result as { content: { text: string }[] }).content[0] as { text: string }).text;
}

describe('a tool that asks the client to confirm', () => {
  it('gets the confirmation from a 2025-11-25 client (a real elicitation request) and from a 2026-07-28 client (an input_required result)', async () => {
    const legacyAsked: string[] = [];
    const modernAsked: string[] = [];
    const accept: Answer = { action: 'accept', content: { confirm: true } };
    const [legacy, modern] = await Promise.all([legacyClient(accept, legacyAsked), modernClient(accept, modernAsked)]);
    const [l, m] = await Promise.all([
      legacy.callTool({ name: 'asks__deploy', arguments: { env: 'staging' } }),
      modern.callTool({ name: 'asks__deploy', arguments: { env: 'prod' } }),
    ]);
    expect(l.isError).toBeFalsy();
    expect(textOf(l)).toBe('deployed to staging (state deploy:staging)');
    expect(legacyAsked).toEqual(['Deploy to staging?']);
    expect(m.isError).toBeFalsy();
    expect(textOf(m)).toBe('deployed to prod (state deploy:prod)');
    expect(modernAsked).toEqual(['Deploy to prod?']);
  });

  it('gets the tool\'s "declined" result when the user declines, on both revisions', async () => {
    const decline: Answer = { action: 'decline' };
    const [legacy, modern] = await Promise.all([legacyClient(decline, []), modernClient(decline, [])]);
    const [l, m] = await Promise.all([
      legacy.callTool({ name: 'asks__deploy', arguments: { env: 'staging' } }),
      modern.callTool({ name: 'asks__deploy', arguments: { env: 'prod' } }),
    ]);
    expect(textOf(l)).toBe('declined (decline)');
    expect(textOf(m)).toBe('declined (decline)');
  });
});

describe('a client that cannot answer (no elicitation capability)', () => {
  it('is not asked: a 2025-11-25 client gets an isError result, a 2026-07-28 client the missing-capability error (-32021)', async () => {
    const accept: Answer = { action: 'accept', content: { confirm: true } };
    const [legacy, modern] = await Promise.all([legacyClient(accept, [], {}), modernClient(accept, [], {})]);
    const l = await legacy.callTool({ name: 'asks__deploy', arguments: { env: 'staging' } });
    expect(l.isError).toBe(true);
    expect(textOf(l)).toMatch(/did not declare the required capability/);
    let code: unknown;
    try {
      await modern.callTool({ name: 'asks__deploy', arguments: { env: 'prod' } });
    } catch (e) {
      code = (e as { code?: unknown }).code;
    }
    expect(code).toBe(-32021);
  });
});


/** A tools/call on 2026-07-28 (every request carries the envelope), answered. */
function rawCall(host: RawHost, id: number, params: Record<string, unknown>): Promise<Record<string, unknown>> {
  const _meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } }, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' } };
  return host.ask({ id, method: 'tools/call', params: { ...params, _meta } });
}

describe('the requestState a client sends back', () => {
  it('is refused with -32602 when forged, edited, or replayed with other arguments; the genuine one is accepted', async () => {
    const host = new RawHost(args, env, closers);
    const first = await rawCall(host, 1, { name: 'asks__deploy', arguments: { env: 'staging' } });
    const result = first.result as { resultType: string; requestState: string; inputRequests: Record<string, unknown> };
    expect(result.resultType).toBe('input_required');
    expect(Object.keys(result.inputRequests)).toEqual(['confirm']);
    const inputResponses = { confirm: { action: 'accept', content: { confirm: true } } };

    const forged = await rawCall(host, 2, { name: 'asks__deploy', arguments: { env: 'staging' }, inputResponses, requestState: 'deploy:staging' });
    expect((forged.error as { code: number; data: unknown }).code).toBe(-32602);
    expect((forged.error as { data: unknown }).data).toEqual({ reason: 'invalid_request_state' });

    const edited = result.requestState.replace(/\.[^.]+\./, (m) => `${m.slice(0, -2)}A.`);
    expect(edited).not.toBe(result.requestState);
    const tampered = await rawCall(host, 3, { name: 'asks__deploy', arguments: { env: 'staging' }, inputResponses, requestState: edited });
    expect((tampered.error as { code: number }).code).toBe(-32602);

    const otherArgs = await rawCall(host, 4, { name: 'asks__deploy', arguments: { env: 'prod' }, inputResponses, requestState: result.requestState });
    expect((otherArgs.error as { code: number }).code).toBe(-32602);

    const unasked = await rawCall(host, 5, { name: 'asks__deploy', arguments: { env: 'staging' }, inputResponses });
    expect((unasked.error as { code: number }).code).toBe(-32602);

    const genuine = await rawCall(host, 6, { name: 'asks__deploy', arguments: { env: 'staging' }, inputResponses, requestState: result.requestState });
    expect(textOf(genuine.result)).toBe('deployed to staging (state deploy:staging)');
  });
});
