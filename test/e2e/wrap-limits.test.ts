/**
 * A wrapped server under the sandbox's limits and refusals (a local directory wrapped: the loop-server
 * fixture, written with the SDK): a tool that loops is stopped by its CPU limit with that code and the
 * server keeps serving its other tools; a tool that reaches an API the sandbox cannot serve
 * (child_process) fails with UNSUPPORTED_API naming it, reported at wrap time already.
 */
import { createHash, createHmac } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { HostHandle } from '../helpers/host.ts';
import { WRAP_FIXTURES, serveWrapped, texts, wrapAndInstall } from '../host/wrap/e2e-harness.ts';
import type { Wrapped } from '../host/wrap/e2e-harness.ts';

const call = (h: HostHandle, tool: string, args: Record<string, unknown> = {}) => h.client.callTool({ name: `wrapped-loop-server__${tool}`, arguments: args }) as Promise<CallToolResult>;

describe('a wrapped server under limits', () => {
  let w: Wrapped;
  let host: HostHandle;
  beforeAll(async () => {
    // 4 s of CPU per call: room for the first call, which starts the server (SDK and zod), on a loaded machine.
    w = await wrapAndInstall({ spec: join(WRAP_FIXTURES, 'loop-server'), wrapArgs: ['--cpu-ms', '4000', '--wall-ms', '120000'] }, 'limits');
    host = await serveWrapped(w);
  });
  afterAll(async () => {
    await host?.close();
  });

  it('reports at wrap time what cannot be served', () => {
    expect(w.report.unsupportedModules).toEqual([{ module: 'node:child_process', importers: ['server.js'] }]);
    expect(w.report.unsupportedApis).toEqual(expect.arrayContaining(['node:child_process.spawn']));
  });

  it('stops a tool that loops with the CPU limit, and keeps serving the other tools', { timeout: 180_000 }, async () => {
    expect(texts(await call(host, 'echo', { text: 'before' }))).toEqual(['before']);
    const spun = await call(host, 'spin');
    expect(spun.isError).toBe(true);
    expect(texts(spun).join(' ')).toContain('SANDBOX_CPU_LIMIT');
    expect(texts(await call(host, 'echo', { text: 'after' }))).toEqual(['after']);
  });

  it('keeps the server\'s memory state between calls of one isolate', async () => {
    const first = Number(texts(await call(host, 'count'))[0]);
    const second = Number(texts(await call(host, 'count'))[0]);
    expect(second).toBe(first + 1);
  });

  it('serves node:crypto hashes: the digests the server computes are Node\'s', async () => {
    const text = 'hash me ✓';
    const expected = `${createHash('sha256').update(text).digest('hex')} ${createHmac('sha1', 'k').update(text).digest('base64')}`;
    expect(texts(await call(host, 'digest', { text }))).toEqual([expected]);
  });

  it('fails a call that reaches child_process with UNSUPPORTED_API naming it', async () => {
    const r = await call(host, 'run_ls');
    expect(r.isError).toBe(true);
    expect(texts(r).join(' ')).toMatch(/UNSUPPORTED_API.*node:child_process\.spawn/);
    expect(texts(await call(host, 'echo', { text: 'still here' }))).toEqual(['still here']);
  });
});
