import { describe, expect, it } from 'vitest';
import { parsePackageManifest, servedNamespace } from '../../host/manifest.ts';
import { MAX_ICON_BYTES } from '../../host/manifest-content.ts';

const PNG = 'data:image/png;base64,iVBORw0KGgo=';

const base = (extra: Record<string, unknown>) => ({
  name: '@good/notes',
  version: '1.0.0',
  mcpWarden: {
    entry: 'index.js',
    tools: [{ name: 'hello', description: 'Says hello.', inputSchema: { type: 'object' }, icons: [{ src: PNG }] }],
    ...extra,
  },
});

function refusal(extra: Record<string, unknown>): string {
  try {
    parsePackageManifest(base(extra));
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return 'accepted';
}

const full = {
  resources: [{ name: 'readme', uri: 'docs://readme', file: 'README.md', title: 'Read me', icons: [{ src: 'icon.png', sizes: ['48x48'] }] }],
  resourceTemplates: [{ name: 'note', uriTemplate: 'notes://{id}', handler: 'note', mimeType: 'text/plain', complete: { id: ['alpha', 'beta'] } }],
  prompts: [
    { name: 'summarize', arguments: [{ name: 'text', required: true, complete: { handler: 'texts' } }], messages: [{ role: 'user', text: 'Summarize: {{text}}' }] },
    { name: 'dynamic', handler: 'dynamic' },
  ],
};

describe('the manifest\'s resources, templates and prompts', () => {
  it('parses them, with defaults and the parsed template', () => {
    const m = parsePackageManifest(base(full)).manifest;
    expect(m.resources[0]).toMatchObject({ name: 'readme', uri: 'docs://readme', file: 'README.md', mimeType: 'text/markdown' });
    expect(m.resourceTemplates[0]?.template.match('notes://alpha')).toEqual({ id: 'alpha' });
    expect(m.prompts.map((p) => p.name)).toEqual(['summarize', 'dynamic']);
    expect(m.prompts[1]?.arguments).toEqual([]);
    expect(m.tools[0]?.icons).toEqual([{ src: PNG }]);
  });

  it('a package without them serves none', () => {
    const m = parsePackageManifest(base({})).manifest;
    expect([m.resources, m.resourceTemplates, m.prompts]).toEqual([[], [], []]);
  });

  it('serves under the scope-qualified namespace', () => {
    expect(servedNamespace('@good/notes')).toBe('good.notes');
    expect(servedNamespace('notes')).toBe('notes');
  });

  it.each([
    ['a file path climbing out', { resources: [{ name: 'r', uri: 'x://r', file: 'a/../../etc/passwd' }] }, 'mcpWarden.resources[0].file'],
    ['an absolute file path', { resources: [{ name: 'r', uri: 'x://r', file: '/etc/passwd' }] }, 'mcpWarden.resources.0.file'],
    ['a URI declared twice', { resources: [{ name: 'a', uri: 'x://r', file: 'a' }, { name: 'b', uri: 'x://r', file: 'b' }] }, 'mcpWarden.resources[1].uri'],
    ['a resource name declared twice', { resources: [{ name: 'a', uri: 'x://a', file: 'a' }, { name: 'a', uri: 'x://b', file: 'b' }] }, 'mcpWarden.resources[1].name'],
    ['a relative URI', { resources: [{ name: 'r', uri: 'readme', file: 'a' }] }, 'uri'],
    ['a URI with a space', { resources: [{ name: 'r', uri: 'x://a b', file: 'a' }] }, 'uri'],
    ['a malformed template', { resourceTemplates: [{ name: 't', uriTemplate: 'x://{id', handler: 'h' }] }, 'mcpWarden.resourceTemplates[0].uriTemplate'],
    ['a template without variables', { resourceTemplates: [{ name: 't', uriTemplate: 'x://fixed', handler: 'h' }] }, 'mcpWarden.resourceTemplates[0].uriTemplate'],
    ['a completion of an unknown variable', { resourceTemplates: [{ name: 't', uriTemplate: 'x://{id}', handler: 'h', complete: { other: ['a'] } }] }, 'mcpWarden.resourceTemplates[0].complete'],
    ['an undeclared placeholder', { prompts: [{ name: 'p', messages: [{ role: 'user', text: 'hi {{who}}' }] }] }, 'mcpWarden.prompts[0].messages[0].text'],
    ['a prompt with both messages and a handler', { prompts: [{ name: 'p', handler: 'h', messages: [{ role: 'user', text: 'x' }] }] }, 'mcpWarden.prompts[0] must have exactly one'],
    ['a prompt with neither', { prompts: [{ name: 'p' }] }, 'mcpWarden.prompts[0] must have exactly one'],
    ['a system role', { prompts: [{ name: 'p', messages: [{ role: 'system', text: 'x' }] }] }, 'role'],
    ['a prompt name with "__"', { prompts: [{ name: 'a__b', handler: 'h' }] }, 'mcpWarden.prompts[0].name'],
    ['an argument declared twice', { prompts: [{ name: 'p', handler: 'h', arguments: [{ name: 'a' }, { name: 'a' }] }] }, 'mcpWarden.prompts[0].arguments[1].name'],
    ['33 arguments', { prompts: [{ name: 'p', handler: 'h', arguments: Array.from({ length: 33 }, (_, i) => ({ name: `a${i}` })) }] }, 'arguments'],
    ['129 resources', { resources: Array.from({ length: 129 }, (_, i) => ({ name: `r${i}`, uri: `x://${i}`, file: 'a' })) }, 'resources'],
    ['101 completion values', { prompts: [{ name: 'p', handler: 'h', arguments: [{ name: 'a', complete: Array.from({ length: 101 }, String) }] }] }, 'complete'],
    ['an SVG data: icon', { prompts: [{ name: 'p', handler: 'h', icons: [{ src: 'data:image/svg+xml;base64,PHN2Zz4=' }] }] }, 'mcpWarden.prompts[0].icons[0].src'],
    ['an oversized data: icon', { prompts: [{ name: 'p', handler: 'h', icons: [{ src: `data:image/png;base64,${Buffer.alloc(MAX_ICON_BYTES + 1).toString('base64')}` }] }] }, 'icons'],
    ['a non-base64 data: icon', { prompts: [{ name: 'p', handler: 'h', icons: [{ src: 'data:image/png,rawbytes' }] }] }, 'mcpWarden.prompts[0].icons[0].src'],
    ['an icon path climbing out', { resources: [{ name: 'r', uri: 'x://r', file: 'a', icons: [{ src: '../icon.png' }] }] }, 'mcpWarden.resources[0].icons[0].src'],
    ['an icon of unknown type', { resources: [{ name: 'r', uri: 'x://r', file: 'a', icons: [{ src: 'icon.bmp' }] }] }, 'mcpWarden.resources[0].icons[0].src'],
    ['an unknown key', { prompts: [{ name: 'p', handler: 'h', evaluate: true }] }, 'mcpWarden.prompts.0'],
  ])('refuses %s with MANIFEST_INVALID naming the field', (_what, extra, field) => {
    const r = refusal(extra);
    expect(r).toMatch(/^MANIFEST_INVALID: /);
    expect(r).toContain(field);
  });
});
