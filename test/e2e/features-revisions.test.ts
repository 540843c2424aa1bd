/**
 * Resources, resource templates, prompts, completions and logging from package handlers, over real stdio
 * to the built CLI, for both protocol revisions (issue 9, "What it must show" 2): a 2025-11-25 client (the
 * v1 SDK's Client: initialize) and a 2026-07-28 client (the v2 SDK's Client pinned to 2026-07-28) against
 * hosts serving the same home, in one test, and the same answers from both. No assertion depends on
 * timing: a handler's log lines are written before the response of the request they belong to.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as LegacyStdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { CLI, EXAMPLES, FIXTURES, ROOT, childEnv, ensureBuilt, tempDir } from '../helpers/host.ts';
import { rejectionOf, rpcCodeOf } from '../helpers/codes.ts';

const MODERN = '2026-07-28';
const LOG_LEVEL = 'io.modelcontextprotocol/logLevel';
/** Small pages: three resources, four templates and four prompts take two pages each. */
const PAGE_SIZE = 2;

const CONTENT = join(FIXTURES, 'content');
const NOTES = join(EXAMPLES, 'notes');
const C = 'mcp-warden://content-fixture/';
const N = 'mcp-warden://notes/';

const closers: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await Promise.allSettled(closers.map((c) => c()));
});

type Logged = string[];
type Params = Record<string, unknown>;
type Result = Record<string, unknown>;

/** One request, the way each revision's client sends it; `level` is the 2026-07-28 per-request log level. */
interface Speaker {
  readonly logged: Logged;
  ask(method: string, params: Params, level?: string): Promise<Result>;
}

function serveArgs(home: string, extra: readonly string[]): string[] {
  return [CLI, 'serve', '--home', home, '--workers', '1', ...extra];
}

async function legacySpeaker(args: string[], env: Record<string, string>): Promise<Speaker & { client: LegacyClient }> {
  ensureBuilt();
  const client = new LegacyClient({ name: 'legacy-features', version: '1.0.0' });
  const logged: Logged = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logged.push(`${n.params.level}:${JSON.stringify(n.params.data)}`);
  });
  await client.connect(new LegacyStdio({ command: process.execPath, args, env, stderr: 'pipe', cwd: ROOT }));
  closers.push(() => client.close());
  const methods: Record<string, (p: Params) => Promise<unknown>> = {
    'resources/list': (p) => client.listResources(p),
    'resources/templates/list': (p) => client.listResourceTemplates(p),
    'resources/read': (p) => client.readResource(p as { uri: string }),
    'prompts/list': (p) => client.listPrompts(p),
    'prompts/get': (p) => client.getPrompt(p as { name: string }),
    'completion/complete': (p) => client.complete(p as Parameters<LegacyClient['complete']>[0]),
  };
  return {
    client,
    logged,
    ask: async (method, params) => (await (methods[method] as (p: Params) => Promise<unknown>)(params)) as Result,
  };
}

async function modernSpeaker(args: string[], env: Record<string, string>): Promise<Speaker & { client: Client }> {
  ensureBuilt();
  const client = new Client({ name: 'modern-features', version: '1.0.0' }, { versionNegotiation: { mode: { pin: MODERN } } });
  const logged: Logged = [];
  client.setNotificationHandler('notifications/message', (n) => {
    logged.push(`${n.params.level}:${JSON.stringify(n.params.data)}`);
  });
  await client.connect(new StdioClientTransport({ command: process.execPath, args, env, stderr: 'pipe', cwd: ROOT }));
  closers.push(() => client.close());
  return {
    client,
    logged,
    // The raw request: one page per list request, nothing cached, the _meta we choose.
    ask: async (method, params, level) => (await client.request({ method, params: level ? { ...params, _meta: { [LOG_LEVEL]: level } } : params } as never)) as Result,
  };
}


/** What both revisions must answer alike: the result without the 2026-07-28 envelope (resultType, cache hints, _meta). */
function payload(r: Result): Result {
  const { resultType: _t, ttlMs: _ttl, cacheScope: _scope, _meta, nextCursor: _c, ...rest } = r;
  return rest;
}

/** Every page of a list method: the items, and how many pages it took (each at most PAGE_SIZE long). */
async function allPages(s: Speaker, method: string, key: string): Promise<{ items: Result[]; pages: number }> {
  const items: Result[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await s.ask(method, cursor ? { cursor } : {});
    const got = page[key] as Result[];
    expect(got.length).toBeLessThanOrEqual(PAGE_SIZE);
    items.push(...got);
    cursor = page.nextCursor as string | undefined;
    pages++;
  } while (cursor !== undefined);
  return { items, pages };
}

describe('resources, prompts, completions and logging, served to a 2025-11-25 client and a 2026-07-28 client', () => {
  it('answers every new method alike on both revisions', async () => {
    const home = tempDir('features');
    const notesDir = tempDir('features-notes');
    mkdirSync(notesDir, { recursive: true });
    writeFileSync(join(notesDir, 'alpha.md'), '# Alpha\nThe first note.\n');
    writeFileSync(join(notesDir, 'beta.md'), '# Beta\n');
    const args = serveArgs(home, ['--dev', CONTENT, '--dev', NOTES, '--grant', `notes=${notesDir}`]);
    const env = childEnv({ MCP_WARDEN_PAGE_SIZE: String(PAGE_SIZE) });
    const [legacy, modern] = await Promise.all([legacySpeaker(args, env), modernSpeaker(args, env)]);
    const both = [legacy, modern] as const;

    // Lists, page by page (opaque cursors), the same items on both revisions, titles and icons included.
    const lists: { resources: Result[]; templates: Result[]; prompts: Result[] }[] = [];
    for (const s of both) {
      const resources = await allPages(s, 'resources/list', 'resources');
      const templates = await allPages(s, 'resources/templates/list', 'resourceTemplates');
      const prompts = await allPages(s, 'prompts/list', 'prompts');
      expect([resources.pages, templates.pages, prompts.pages]).toEqual([2, 2, 2]);
      lists.push({ resources: resources.items, templates: templates.items, prompts: prompts.items });
    }
    expect(lists[1]).toEqual(lists[0]);
    const { resources, templates, prompts } = lists[0] as (typeof lists)[number];
    expect(resources.map((r) => r.uri).sort()).toEqual([`${C}docs://readme`, `${C}img://logo`, `${N}notes://guide`]);
    expect(templates.map((t) => t.uriTemplate).sort()).toEqual([`${C}items://{kind}/{id}`, `${C}missing://{id}`, `${C}notes://{id}`, `${N}notes://note/{id}`]);
    expect(prompts.map((p) => p.name).sort()).toEqual(['content-fixture__dynamic', 'content-fixture__summarize', 'notes__review', 'notes__summarize_note']);
    const dataIcon = { src: expect.stringMatching(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/), mimeType: 'image/png' };
    expect(resources.find((r) => r.uri === `${C}docs://readme`)).toMatchObject({ name: 'readme', title: 'Read me', description: "The fixture's read-me.", mimeType: 'text/markdown', icons: [dataIcon] });
    expect(resources.find((r) => r.uri === `${N}notes://guide`)).toMatchObject({ title: 'How to use notes', icons: [dataIcon] });
    expect(templates.find((t) => t.uriTemplate === `${N}notes://note/{id}`)).toMatchObject({ name: 'note', title: 'A saved note', mimeType: 'text/markdown' });
    expect(prompts.find((p) => p.name === 'content-fixture__summarize')).toMatchObject({
      title: 'Summarize',
      arguments: [
        { name: 'text', description: 'The text.', required: true },
        { name: 'tone', description: 'How.' },
      ],
    });
    expect(prompts.find((p) => p.name === 'content-fixture__dynamic')).toMatchObject({ icons: [{ src: 'data:image/png;base64,iVBORw0KGgo=' }] });
    // Tools carry their icons too (served as data: URIs, never host paths).
    expect((await legacy.client.listTools()).tools.find((t) => t.name === 'content-fixture__hello')).toMatchObject({ title: 'Hello', icons: [{ ...dataIcon, sizes: ['16x16'] }] });

    // The same answer from both revisions for every read, get and complete.
    const alike = async (method: string, params: Params): Promise<Result> => {
      const [a, b] = [payload(await legacy.ask(method, params)), payload(await modern.ask(method, params))];
      expect(b).toEqual(a);
      return a;
    };
    const readme = readFileSync(join(CONTENT, 'README.md'), 'utf8');
    expect(await alike('resources/read', { uri: `${C}docs://readme` })).toEqual({ contents: [{ uri: `${C}docs://readme`, mimeType: 'text/markdown', text: readme }] });
    expect(await alike('resources/read', { uri: `${C}img://logo` })).toEqual({ contents: [{ uri: `${C}img://logo`, mimeType: 'image/png', blob: readFileSync(join(CONTENT, 'logo.png')).toString('base64') }] });
    expect(await alike('resources/read', { uri: `${N}notes://guide` })).toMatchObject({ contents: [{ text: readFileSync(join(NOTES, 'GUIDE.md'), 'utf8') }] });
    // Templates: a handler in the sandbox, with the package's grant (notes reads the bound directory).
    expect(await alike('resources/read', { uri: `${C}notes://n1` })).toMatchObject({ contents: [{ uri: `${C}notes://n1`, text: 'note n1' }] });
    expect(await alike('resources/read', { uri: `${C}items://tool/i2` })).toMatchObject({ contents: [{ mimeType: 'application/json', text: '{"kind":"tool","id":"i2"}' }, { blob: 'AAEC' }] });
    expect(await alike('resources/read', { uri: `${N}notes://note/alpha` })).toMatchObject({ contents: [{ mimeType: 'text/markdown', text: '# Alpha\nThe first note.\n' }] });

    // Prompts: a static template filled by the host, and one produced by a handler in the sandbox.
    expect(await alike('prompts/get', { name: 'content-fixture__summarize', arguments: { text: 'the {{tone}} text', tone: 'short' } })).toMatchObject({
      messages: [
        { role: 'user', content: { type: 'text', text: 'Summarize this: the {{tone}} text' } },
        { role: 'assistant', content: { type: 'text', text: 'In a short way: the {{tone}} text' } },
      ],
    });
    expect(await alike('prompts/get', { name: 'content-fixture__dynamic', arguments: { topic: 'owls' } })).toMatchObject({
      description: 'About owls',
      messages: [{ role: 'user', content: { type: 'text', text: 'Tell me about owls' } }, { role: 'assistant', content: { type: 'resource' } }],
    });
    expect(await alike('prompts/get', { name: 'notes__summarize_note', arguments: { id: 'beta' } })).toMatchObject({ messages: [{ content: { type: 'resource', resource: { text: '# Beta\n' } } }, { role: 'user' }] });

    // Completions: a prompt argument (static list, handler) and a resource-template variable (static list, handler).
    const complete = (ref: Params, name: string, value: string, context?: Params) => alike('completion/complete', { ref, argument: { name, value }, ...(context ? { context: { arguments: context } } : {}) });
    expect(await complete({ type: 'ref/prompt', name: 'content-fixture__summarize' }, 'tone', 'lo')).toMatchObject({ completion: { values: ['long', 'longer'] } });
    expect(await complete({ type: 'ref/prompt', name: 'notes__summarize_note' }, 'id', 'al')).toMatchObject({ completion: { values: ['alpha'] } });
    expect(((await complete({ type: 'ref/prompt', name: 'content-fixture__dynamic' }, 'topic', 't')).completion as { values: string[] }).values).toHaveLength(100);
    expect(await complete({ type: 'ref/resource', uri: `${C}notes://{id}` }, 'id', 'al')).toMatchObject({ completion: { values: ['alpha', 'alphabet'] } });
    expect(await complete({ type: 'ref/resource', uri: `${C}items://{kind}/{id}` }, 'id', 'i', { kind: 'tool' })).toMatchObject({ completion: { values: ['i1', 'i2', 'kind-tool'] } });
    expect(await complete({ type: 'ref/resource', uri: `${N}notes://note/{id}` }, 'id', 'b')).toMatchObject({ completion: { values: ['beta'] } });

    // Refusals with their codes, on both revisions: an unknown URI, a missing required prompt argument, an unknown prompt.
    for (const s of both) {
      const unknown = await rejectionOf(s.ask('resources/read', { uri: `${C}nowhere://x` }));
      expect(rpcCodeOf(unknown)).toBe(-32602);
      expect((unknown as { data?: unknown }).data).toMatchObject({ uri: `${C}nowhere://x` });
      expect(rpcCodeOf(await rejectionOf(s.ask('resources/read', { uri: 'docs://readme' })))).toBe(-32602);
      expect(rpcCodeOf(await rejectionOf(s.ask('prompts/get', { name: 'content-fixture__summarize', arguments: { tone: 'short' } })))).toBe(-32602);
      expect(rpcCodeOf(await rejectionOf(s.ask('prompts/get', { name: 'content-fixture__nope' })))).toBe(-32602);
      expect(rpcCodeOf(await rejectionOf(s.ask('resources/list', { cursor: 'bogus' })))).toBe(-32602);
      expect(rpcCodeOf(await rejectionOf(s.ask('prompts/list', { cursor: 'bogus' })))).toBe(-32602);
    }

    // Logging from a resource handler, 2025-11-25: logging/setLevel filters what ctx.log sends.
    await legacy.client.setLoggingLevel('notice');
    await legacy.ask('resources/read', { uri: `${C}notes://L1` });
    expect(legacy.logged.filter((l) => l.includes('L1'))).toEqual([expect.stringMatching(/^notice:"reading .*notes:\/\/L1"$/)]);
    await legacy.client.setLoggingLevel('warning');
    await legacy.ask('resources/read', { uri: `${C}notes://L2` });
    expect(legacy.logged.filter((l) => l.includes('L2'))).toEqual([]);
    // 2026-07-28: the request's own log level in _meta; nothing without one.
    await modern.ask('resources/read', { uri: `${C}notes://M1` });
    await modern.ask('resources/read', { uri: `${C}notes://M2` }, 'notice');
    await modern.ask('resources/read', { uri: `${C}notes://M3` }, 'error');
    expect(modern.logged.filter((l) => l.includes('M1') || l.includes('M3'))).toEqual([]);
    expect(modern.logged.filter((l) => l.includes('M2'))).toEqual([expect.stringMatching(/^notice:"reading .*notes:\/\/M2"$/)]);
    // A prompt handler's ctx.log('warn', …) reaches the client as "warning".
    await modern.ask('prompts/get', { name: 'content-fixture__dynamic', arguments: { topic: 'M4' } }, 'debug');
    expect(modern.logged).toContain('warning:"making a prompt"');

    // Subscriptions, 2025-11-25: to a URI a served package answers for (static or from a template).
    await expect(legacy.client.subscribeResource({ uri: `${C}docs://readme` })).resolves.toEqual({});
    await expect(legacy.client.subscribeResource({ uri: `${N}notes://note/alpha` })).resolves.toEqual({});
    await expect(legacy.client.unsubscribeResource({ uri: `${C}docs://readme` })).resolves.toEqual({});
    expect(rpcCodeOf(await rejectionOf(legacy.client.subscribeResource({ uri: `${C}nowhere://x` })))).toBe(-32602);
  });
});

describe('serve --no-prefix', () => {
  it("serves one package's prompts, resources and templates under its own names and URIs, on both revisions", async () => {
    const args = serveArgs(tempDir('features-noprefix'), ['--no-prefix', '--dev', CONTENT]);
    const [legacy, modern] = await Promise.all([legacySpeaker(args, childEnv()), modernSpeaker(args, childEnv())]);
    for (const s of [legacy, modern]) {
      expect(((await s.ask('resources/list', {})).resources as Result[]).map((r) => r.uri).sort()).toEqual(['docs://readme', 'img://logo']);
      expect(((await s.ask('resources/templates/list', {})).resourceTemplates as Result[]).map((t) => t.uriTemplate).sort()).toEqual(['items://{kind}/{id}', 'missing://{id}', 'notes://{id}']);
      expect(((await s.ask('prompts/list', {})).prompts as Result[]).map((p) => p.name).sort()).toEqual(['dynamic', 'summarize']);
      expect(await s.ask('resources/read', { uri: 'notes://x' })).toMatchObject({ contents: [{ uri: 'notes://x', text: 'note x' }] });
      expect(await s.ask('resources/read', { uri: 'docs://readme' })).toMatchObject({ contents: [{ uri: 'docs://readme', mimeType: 'text/markdown' }] });
      expect(await s.ask('prompts/get', { name: 'summarize', arguments: { text: 't' } })).toMatchObject({ messages: [{ content: { text: 'Summarize this: t' } }, {}] });
      expect(await s.ask('completion/complete', { ref: { type: 'ref/resource', uri: 'notes://{id}' }, argument: { name: 'id', value: 'b' } })).toMatchObject({ completion: { values: ['beta'] } });
      expect(rpcCodeOf(await rejectionOf(s.ask('resources/read', { uri: `${C}notes://x` })))).toBe(-32602);
    }
    expect((await legacy.client.listTools()).tools.map((t) => t.name)).toEqual(['hello']);
  });
});
