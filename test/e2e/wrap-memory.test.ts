/**
 * @modelcontextprotocol/server-memory, wrapped from the registry (pinned by
 * test/fixtures/wrap/server-memory.lock.json) with its memory file under a granted directory: answers as
 * the same server run natively, keeps its graph in that file only, and cannot write anywhere else even
 * when its own configuration points elsewhere (our grant is the wall).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { HostHandle } from '../helpers/host.ts';
import { tempDir } from '../helpers/host.ts';
import { serveWrapped, startNative, texts, wrapAndInstall } from '../host/wrap/e2e-harness.ts';
import type { NativeServer, Wrapped } from '../host/wrap/e2e-harness.ts';

const SPEC = '@modelcontextprotocol/server-memory@2026.8.31';
const NS = 'wrapped-server-memory__';

const STEPS: Array<[string, Record<string, unknown>]> = [
  ['create_entities', { entities: [{ name: 'Ada', entityType: 'person', observations: ['wrote the first program'] }, { name: 'Engine', entityType: 'machine', observations: ['analytical'] }] }],
  ['create_relations', { relations: [{ from: 'Ada', to: 'Engine', relationType: 'programmed' }] }],
  ['add_observations', { observations: [{ entityName: 'Ada', contents: ['mathematician'] }] }],
  ['search_nodes', { query: 'mathematician' }],
  ['open_nodes', { names: ['Engine'] }],
  ['delete_observations', { deletions: [{ entityName: 'Engine', observations: ['analytical'] }] }],
  ['read_graph', {}],
  ['delete_relations', { relations: [{ from: 'Ada', to: 'Engine', relationType: 'programmed' }] }],
  ['delete_entities', { entityNames: ['Engine'] }],
  ['read_graph', {}],
];

describe('wrapped @modelcontextprotocol/server-memory', () => {
  let w: Wrapped;
  let host: HostHandle;
  let native: NativeServer;
  let nativeDir: string;
  beforeAll(async () => {
    w = await wrapAndInstall({
      spec: SPEC, lock: 'server-memory', grants: { memory: 'memory' },
      wrapArgs: ['--fs', 'memory:write:where the knowledge graph is kept', '--env', 'MEMORY_FILE_PATH=${memory}/memory.jsonl'],
    }, 'memory');
    host = await serveWrapped(w);
    nativeDir = tempDir('memory-native');
    native = await startNative(w.mainFile, [], { MEMORY_FILE_PATH: join(nativeDir, 'memory.jsonl') });
  });
  afterAll(async () => {
    await host?.close();
    await native?.close();
  });

  it('serves the same tools as the native server', async () => {
    const ours = (await host.client.listTools()).tools.map((t) => t.name.slice(NS.length)).sort();
    const theirs = (await native.client.listTools()).tools.map((t) => t.name).sort();
    expect(ours).toEqual(theirs);
    expect(ours).toEqual(expect.arrayContaining(['create_entities', 'read_graph', 'search_nodes']));
  });

  it('answers each tool as the native server does, and keeps the graph in its file', async () => {
    for (const [tool, args] of STEPS) {
      const ours = (await host.client.callTool({ name: NS + tool, arguments: args })) as CallToolResult;
      const theirs = (await native.client.callTool({ name: tool, arguments: args })) as CallToolResult;
      expect({ tool, isError: ours.isError ?? false, text: texts(ours) }).toEqual({ tool, isError: theirs.isError ?? false, text: texts(theirs) });
      expect(ours.structuredContent).toEqual(theirs.structuredContent);
    }
    const dir = w.dirs.memory as string;
    // Its file and nothing else (the server's temporary file was renamed over it).
    expect(readdirSync(dir)).toEqual(['memory.jsonl']);
    expect(readFileSync(join(dir, 'memory.jsonl'), 'utf8')).toBe(readFileSync(join(nativeDir, 'memory.jsonl'), 'utf8'));
  });
});

describe('wrapped server-memory configured to write outside its grant', () => {
  it('cannot write there: the call fails and no file appears', async () => {
    const outside = tempDir('memory-outside');
    const w = await wrapAndInstall({
      spec: SPEC, lock: 'server-memory', grants: { memory: 'memory' },
      wrapArgs: ['--name', 'wrapped-memory-widened', '--fs', 'memory:write', '--env', `MEMORY_FILE_PATH=${outside}/memory.jsonl`],
    }, 'memory-widened');
    const host = await serveWrapped(w);
    try {
      const r = (await host.client.callTool({ name: 'wrapped-memory-widened__create_entities', arguments: { entities: [{ name: 'x', entityType: 'y', observations: [] }] } })) as CallToolResult;
      expect(r.isError).toBe(true);
      expect(texts(r).join(' ')).toMatch(/outside the grant|EACCES|denied/);
      expect(readdirSync(outside)).toEqual([]);
      expect(readdirSync(w.dirs.memory as string)).toEqual([]);
      expect(existsSync(join(outside, 'memory.jsonl'))).toBe(false);
    } finally {
      await host.close();
    }
  });
});
