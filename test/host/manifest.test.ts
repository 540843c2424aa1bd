import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_MAX_LIMITS, effectiveLimits, namespaceOf, parsePackageManifest } from '../../host/manifest.ts';
import { DEFAULT_LIMITS } from '../../runtime/index.ts';

const base = () => ({
  name: 'demo',
  version: '1.2.3',
  mcpWarden: {
    entry: 'dist/index.js',
    tools: [{ name: 'hello', description: 'Says hello.', inputSchema: { type: 'object', properties: { who: { type: 'string' } } } }],
    capabilities: { net: ['api.example.com'], fs: [{ slot: 'workspace', access: 'read' }, 'read:/etc/hosts'] },
  },
});

function codeAndMessage(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (e) {
    return [(e as { code: string }).code, (e as Error).message];
  }
  return ['OK', ''];
}

describe('parsePackageManifest', () => {
  it('accepts every example package', () => {
    for (const p of ['text-tools', 'http-json', 'file-search', 'number-crunch', 'notes']) {
      const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'tool-packages', p, 'package.json'), 'utf8'));
      expect(parsePackageManifest(pkg).name).toBe(p);
    }
  });

  it('returns typed values with defaults filled in', () => {
    const m = parsePackageManifest(base());
    expect(m).toMatchObject({ name: 'demo', version: '1.2.3', namespace: 'demo' });
    expect(m.manifest.capabilities.fs).toHaveLength(2);
    expect(m.manifest.limits).toEqual({});
    expect(m.manifest.freshContextPerCall).toBe(false);
  });

  describe('when the manifest is invalid', () => {
    it.each([
      ['no mcpWarden section', (p: Record<string, unknown>) => delete p.mcpWarden, /no "mcpWarden" section/],
      ['a bad package name', (p: Record<string, unknown>) => (p.name = 'Bad Name'), /"name"/],
      ['an entry that climbs out', (p: { mcpWarden: { entry: string } }) => (p.mcpWarden.entry = 'a/../../x.js'), /entry/],
      ['an absolute entry', (p: { mcpWarden: { entry: string } }) => (p.mcpWarden.entry = '/etc/x.js'), /entry/],
      ['an unknown key', (p: { mcpWarden: Record<string, unknown> }) => (p.mcpWarden.sneaky = 1), /unexpected property "sneaky"/],
      ['a tool name with "__"', (p: { mcpWarden: { tools: { name: string }[] } }) => ((p.mcpWarden.tools[0] as { name: string }).name = 'a__b'), /must not contain "__"/],
      ['a tool name with a space', (p: { mcpWarden: { tools: { name: string }[] } }) => ((p.mcpWarden.tools[0] as { name: string }).name = 'a b'), /tools\.0\.name/],
      ['an inputSchema that is not an object schema', (p: { mcpWarden: { tools: { inputSchema: unknown }[] } }) => ((p.mcpWarden.tools[0] as { inputSchema: unknown }).inputSchema = { type: 'string' }), /inputSchema/],
      ['a pattern the linear-time engine cannot run (lookahead)', (p: { mcpWarden: { tools: { inputSchema: unknown }[] } }) => ((p.mcpWarden.tools[0] as { inputSchema: unknown }).inputSchema = { type: 'object', properties: { s: { type: 'string', pattern: '^(?=a)a+$' } } }), /linear-time/],
      ['a limit above the host maximum', (p: { mcpWarden: Record<string, unknown> }) => (p.mcpWarden.limits = { memoryMb: 100_000 }), /memoryMb/],
      ['a duplicated slot', (p: { mcpWarden: { capabilities: { fs: unknown[] } } }) => p.mcpWarden.capabilities.fs.push({ slot: 'workspace', access: 'write' }), /slot "workspace" twice/],
    ] as [string, (p: never) => unknown, RegExp][])('refuses %s with MANIFEST_INVALID naming the field', (_what, mutate, message) => {
      const pkg = base();
      mutate(pkg as never);
      const [code, msg] = codeAndMessage(() => parsePackageManifest(pkg));
      expect(code).toBe('MANIFEST_INVALID');
      expect(msg).toMatch(message);
    });
  });
});

describe('namespaceOf', () => {
  it.each([
    ['weather', 'weather'],
    ['@acme/http-json', 'http-json'],
    ['a.b_c', 'a-b-c'],
  ])('%s → %s', (name, ns) => expect(namespaceOf(name)).toBe(ns));
});

describe('effectiveLimits', () => {
  it('uses the defaults for what the manifest does not ask', () => {
    expect(effectiveLimits({})).toEqual(DEFAULT_LIMITS);
  });

  it('caps what the manifest asks at the host maximum', () => {
    expect(effectiveLimits({ memoryMb: 1e9, wallMs: 1000 })).toMatchObject({ memoryMb: HOST_MAX_LIMITS.memoryMb, wallMs: 1000 });
  });
});
