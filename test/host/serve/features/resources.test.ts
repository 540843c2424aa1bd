import { join } from 'node:path';
import { ResourceNotFoundError } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEvent } from '../../../../runtime/index.ts';
import { FIXTURES, callContext, harness, wireErrorOf } from './harness.ts';
import type { Harness } from './harness.ts';

const PREFIX = 'mcp-warden://content-fixture/';
let h: Harness;
beforeAll(async () => {
  h = await harness([join(FIXTURES, 'content')]);
  expect(h.refused).toEqual([]);
});
afterAll(() => h.close());

describe('resources/list and resources/templates/list', () => {
  it('list every static resource and template under the package prefix, sorted, with titles and data: icons', () => {
    const resources = h.features.listResources();
    expect(resources.map((r) => r.uri)).toEqual([`${PREFIX}docs://readme`, `${PREFIX}img://logo`]);
    expect(resources[0]).toMatchObject({ name: 'readme', title: 'Read me', description: "The fixture's read-me.", mimeType: 'text/markdown', size: 38 });
    expect(resources[0]?.icons?.[0]).toMatchObject({ mimeType: 'image/png' });
    expect(resources[0]?.icons?.[0]?.src).toMatch(/^data:image\/png;base64,iVBORw0KGgo/);
    expect(resources[1]).toMatchObject({ mimeType: 'image/png' });
    const templates = h.features.listResourceTemplates();
    expect(templates.map((t) => t.uriTemplate)).toEqual([`${PREFIX}items://{kind}/{id}`, `${PREFIX}missing://{id}`, `${PREFIX}notes://{id}`]);
    expect(templates[2]).toMatchObject({ name: 'note', title: 'A note', mimeType: 'text/plain' });
  });

  it('tools keep their title and gain icons', () => {
    const [tool] = h.deps.registry.list();
    expect(tool).toMatchObject({ name: 'content-fixture__hello', title: 'Hello' });
    expect(tool?.icons?.[0]?.src).toMatch(/^data:image\/png;base64,/);
  });
});

describe('resources/read', () => {
  it('serves a static text file as text and a binary one as a base64 blob, without running the sandbox', async () => {
    expect(await h.features.readResource(`${PREFIX}docs://readme`, callContext())).toEqual({
      contents: [{ uri: `${PREFIX}docs://readme`, mimeType: 'text/markdown', text: '# Content fixture\n\nA static resource.\n' }],
    });
    const logo = await h.features.readResource(`${PREFIX}img://logo`, callContext());
    expect(logo.contents[0]).toMatchObject({ mimeType: 'image/png', blob: Buffer.from('\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR', 'latin1').toString('base64') });
    expect(h.calls).toEqual([]);
  });

  it('runs a template handler in the sandbox with the own URI and variables, audited as a resource call, its log forwarded', async () => {
    const logs: LogEvent[] = [];
    const result = await h.features.readResource(`${PREFIX}notes://alpha`, callContext({ onLog: (e) => logs.push(e) }));
    expect(result).toEqual({ contents: [{ uri: `${PREFIX}notes://alpha`, mimeType: 'text/plain', text: 'note alpha' }] });
    expect(logs).toEqual([expect.objectContaining({ level: 'notice', message: 'reading notes://alpha' })]);
    expect(h.calls.at(-1)).toMatchObject({ package: 'content-fixture', tool: 'note', kind: 'resource', outcome: 'ok' });
  });

  it('converts several text and blob contents, each with its MIME type', async () => {
    const result = await h.features.readResource(`${PREFIX}items://book/7`, callContext());
    expect(result.contents).toEqual([
      { uri: `${PREFIX}items://book/7`, mimeType: 'application/json', text: '{"kind":"book","id":"7"}' },
      { uri: `${PREFIX}items://book/7`, blob: 'AAEC' },
    ]);
  });

  it.each([
    ['a URI without the prefix', 'docs://readme'],
    ['an unknown package prefix', 'mcp-warden://nobody/docs://readme'],
    ['an unknown URI under the prefix', `${PREFIX}docs://other`],
    ['a URI no template matches', `${PREFIX}notes://a/b`],
    ['another scheme', 'file:///etc/passwd'],
  ])('answers resource not found for %s', async (_what, uri) => {
    const e = await h.features.readResource(uri, callContext()).catch((x: unknown) => x);
    // The SDK's resource-not-found: -32602 with data { uri } (its encoder also maps a -32002 to that).
    expect(e).toBeInstanceOf(ResourceNotFoundError);
    expect(e).toMatchObject({ code: -32602, data: { uri } });
  });

  it('a template whose handler the entry does not export fails with TOOL_NOT_FOUND', async () => {
    const e = await wireErrorOf(h.features.readResource(`${PREFIX}missing://x`, callContext()));
    expect(e).toMatchObject({ code: -32603, data: { code: 'TOOL_NOT_FOUND', retryable: false } });
    expect(e.message).toMatch(/^TOOL_NOT_FOUND: the package has no resource handler named notExported/);
  });

  it('names the package serving a URI', () => {
    expect(h.features.packageOfUri(`${PREFIX}notes://x`)).toBe('content-fixture');
    expect(h.features.packageOfUri(`${PREFIX}docs://readme`)).toBe('content-fixture');
    expect(h.features.packageOfUri('notes://x')).toBeUndefined();
  });
});

describe('without the prefix (serve --no-prefix)', () => {
  it('serves the package\'s own names and URIs', async () => {
    const own = await harness([join(FIXTURES, 'content')], false);
    try {
      expect(own.features.listResources().map((r) => r.uri)).toEqual(['docs://readme', 'img://logo']);
      expect(own.features.listResourceTemplates().map((t) => t.uriTemplate)).toContain('notes://{id}');
      expect(own.features.listPrompts().map((p) => p.name)).toEqual(['dynamic', 'summarize']);
      expect(own.deps.registry.list().map((t) => t.name)).toEqual(['hello']);
      expect((await own.features.readResource('notes://beta', callContext())).contents[0]).toMatchObject({ uri: 'notes://beta', text: 'note beta' });
    } finally {
      await own.close();
    }
  });
});
