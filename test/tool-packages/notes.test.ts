/** The notes example: every kind of thing a package serves, end to end through the feature handlers and the real sandbox. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEvent } from '../../runtime/index.ts';
import { homeLayout } from '../../host/home/home.ts';
import { createFeatures } from '../../host/serve/features/index.ts';
import type { FeatureDeps, Features } from '../../host/serve/features/index.ts';
import { loadPackage } from '../../host/serve/loader.ts';
import { createLogger } from '../../host/serve/logger.ts';
import { createRedactor } from '../../host/serve/redact.ts';
import { createRegistry } from '../../host/serve/registry.ts';
import { tempDir } from '../helpers/host.ts';
import { newSandbox } from '../helpers/sandbox.ts';

const DIR = join(import.meta.dirname, '..', '..', 'tool-packages', 'notes');
const U = 'mcp-warden://notes/';
const signal = new AbortController().signal;
let features: Features;
let deps: FeatureDeps;
const sandbox = newSandbox();
afterAll(() => sandbox.close());

beforeAll(async () => {
  const notes = tempDir('mcpw-notes-');
  mkdirSync(notes, { recursive: true });
  writeFileSync(join(notes, 'groceries.md'), 'milk, eggs');
  writeFileSync(join(notes, 'garden.md'), 'plant tulips');
  const pkg = await loadPackage({ kind: 'dev', dir: DIR, grantOverrides: { slots: { notes } } }, { home: homeLayout(tempDir('mcpw-notes-home-')), verify: async () => { throw new Error('dev only'); } });
  deps = { registry: createRegistry([pkg]), sandbox, audit: { call: () => {}, capability: () => {}, pkg: () => {}, dlp: () => {}, digest: () => 'd', drain: async () => {}, close: async () => {} }, logger: createLogger({ level: 'silent' }), redact: createRedactor() };
  features = createFeatures(deps);
});

describe('the notes example package', () => {
  it('serves its guide, a template, two prompts and tools with icons', () => {
    expect(features.listResources().map((r) => r.uri)).toEqual([`${U}notes://guide`]);
    expect(features.listResourceTemplates().map((t) => t.uriTemplate)).toEqual([`${U}notes://note/{id}`]);
    expect(features.listPrompts().map((p) => p.name)).toEqual(['notes__review', 'notes__summarize_note']);
    expect(deps.registry.list().find((t) => t.name === 'notes__add_note')?.icons?.[0]?.src).toMatch(/^data:image\/png;base64,/);
  });

  it('reads a note through its template, logging to the client at notice', async () => {
    const logs: LogEvent[] = [];
    const r = await features.readResource(`${U}notes://note/garden`, { signal, onLog: (e) => logs.push(e) });
    expect(r.contents).toEqual([{ uri: `${U}notes://note/garden`, mimeType: 'text/markdown', text: 'plant tulips' }]);
    expect(logs).toEqual([expect.objectContaining({ level: 'notice', message: 'reading note garden' })]);
  });

  it('completes note ids from the granted directory, and the tone from its static list', async () => {
    expect(await features.complete({ ref: { type: 'ref/resource', uri: `${U}notes://note/{id}` }, argument: { name: 'id', value: 'g' } }, { signal })).toEqual({ completion: { values: ['garden', 'groceries'], total: 2, hasMore: false } });
    expect((await features.complete({ ref: { type: 'ref/prompt', name: 'notes__summarize_note' }, argument: { name: 'id', value: 'gr' } }, { signal })).completion.values).toEqual(['groceries']);
    expect((await features.complete({ ref: { type: 'ref/prompt', name: 'notes__review' }, argument: { name: 'tone', value: 'b' } }, { signal })).completion.values).toEqual(['brief']);
  });

  it('fills its static prompt and runs its handler prompt', async () => {
    expect((await features.getPrompt('notes__review', { topic: 'tulips', tone: 'brief' }, { signal })).messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Write a brief note about: tulips' } }]);
    const s = await features.getPrompt('notes__summarize_note', { id: 'groceries' }, { signal });
    expect(s.messages[0]).toEqual({ role: 'user', content: { type: 'resource', resource: { uri: 'notes://note/groceries', mimeType: 'text/markdown', text: 'milk, eggs' } } });
  });
});
