/**
 * @modelcontextprotocol/server-sequential-thinking, wrapped from the registry (pinned by
 * test/fixtures/wrap/server-sequential-thinking.lock.json), signed, installed and served by mcp-warden,
 * answers its tool exactly as the same server run natively over stdio.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { HostHandle } from '../helpers/host.ts';
import { serveWrapped, startNative, texts, wrapAndInstall } from '../host/wrap/e2e-harness.ts';
import type { NativeServer, Wrapped } from '../host/wrap/e2e-harness.ts';

const TOOL = 'wrapped-server-sequential-thinking__sequentialthinking';

describe('wrapped @modelcontextprotocol/server-sequential-thinking', () => {
  let w: Wrapped;
  let host: HostHandle;
  let native: NativeServer;
  beforeAll(async () => {
    w = await wrapAndInstall({ spec: '@modelcontextprotocol/server-sequential-thinking@2026.8.31', lock: 'server-sequential-thinking' }, 'seq');
    host = await serveWrapped(w);
    native = await startNative(w.mainFile, []);
  });
  afterAll(async () => {
    await host?.close();
    await native?.close();
  });

  it('records the server and every bundled package with its integrity in the manifest', () => {
    expect(w.report).toMatchObject({ name: 'wrapped-server-sequential-thinking', server: { name: '@modelcontextprotocol/server-sequential-thinking', version: '2026.8.31', integrity: expect.stringMatching(/^sha512-/) } });
    const deps = w.report.dependencies as Array<{ name: string; integrity?: string }>;
    expect(deps.map((d) => d.name)).toEqual(expect.arrayContaining(['@modelcontextprotocol/sdk', 'zod']));
    for (const d of deps) expect(d.integrity).toMatch(/^sha512-/);
  });

  it('lists the same tool as the native server', async () => {
    const ours = (await host.client.listTools()).tools;
    const theirs = (await native.client.listTools()).tools;
    expect(ours.map((t) => t.name)).toEqual([TOOL]);
    expect(theirs.map((t) => t.name)).toEqual(['sequentialthinking']);
    expect(ours[0]?.description).toBe(theirs[0]?.description);
    expect(Object.keys((ours[0]?.inputSchema.properties ?? {}) as object).sort()).toEqual(Object.keys((theirs[0]?.inputSchema.properties ?? {}) as object).sort());
  });

  it('answers a sequence of thoughts (state kept between calls) as the native server does', async () => {
    const thoughts = [
      { thought: 'Split the problem', thoughtNumber: 1, totalThoughts: 3, nextThoughtNeeded: true },
      { thought: 'Try a branch', thoughtNumber: 2, totalThoughts: 3, nextThoughtNeeded: true, branchFromThought: 1, branchId: 'b1' },
      { thought: 'Revise the first', thoughtNumber: 3, totalThoughts: 3, nextThoughtNeeded: false, isRevision: true, revisesThought: 1 },
    ];
    for (const args of thoughts) {
      const ours = (await host.client.callTool({ name: TOOL, arguments: args })) as CallToolResult;
      const theirs = (await native.client.callTool({ name: 'sequentialthinking', arguments: args })) as CallToolResult;
      expect(ours.isError ?? false).toBe(theirs.isError ?? false);
      expect(texts(ours)).toEqual(texts(theirs));
      expect(ours.structuredContent).toEqual(theirs.structuredContent);
    }
    const last = JSON.parse(texts((await host.client.callTool({ name: TOOL, arguments: { thought: 'x', thoughtNumber: 4, totalThoughts: 4, nextThoughtNeeded: false } })) as CallToolResult)[0] as string) as { thoughtHistoryLength: number; branches: string[] };
    expect(last).toMatchObject({ thoughtHistoryLength: 4, branches: ['b1'] });
  });

  it('refuses arguments that do not match the tool schema before they reach the server', async () => {
    const r = (await host.client.callTool({ name: TOOL, arguments: { thought: 'x' } })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(texts(r).join(' ')).toContain('INVALID_ARGUMENTS');
  });
});
