/**
 * End to end: the built CLI as a subprocess, driven by the SDK's Client over real stdio, serving the
 * example packages and a hostile one through the real sandbox.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopback } from '../helpers/loopback.ts';
import type { Loopback } from '../helpers/loopback.ts';
import { McpError, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { EXAMPLES, FIXTURES, startHost, tempDir } from '../helpers/host.ts';
import type { HostHandle } from '../helpers/host.ts';
import { digestTree, writeSealedLock } from '../helpers/installed.ts';

let host: HostHandle;
let api: Loopback;
let apiUrl: string;
let workspace: string;

function text(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
}

function errorCode(r: CallToolResult): string | undefined {
  return (r._meta?.['dev.mcp-warden/error'] as { code?: string } | undefined)?.code;
}

async function call(name: string, args: Record<string, unknown>, options: Parameters<HostHandle['client']['callTool']>[2] = {}): Promise<CallToolResult> {
  return (await host.client.callTool({ name, arguments: args }, undefined, options)) as CallToolResult;
}

beforeAll(async () => {
  api = await startLoopback((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.end(JSON.stringify({ echoed: JSON.parse(body) })));
    } else res.end(JSON.stringify({ path: req.url, items: [{ id: 1 }, { id: 2 }] }));
  });
  apiUrl = api.origin;
  workspace = tempDir('ws');
  mkdirSync(join(workspace, 'sub'));
  writeFileSync(join(workspace, 'a.txt'), 'alpha\nneedle one\n');
  writeFileSync(join(workspace, 'sub', 'b.md'), 'beta\nanother NEEDLE\n');
  const dev = ['text-tools', 'http-json', 'file-search', 'number-crunch'].flatMap((p) => ['--dev', join(EXAMPLES, p)]);
  host = await startHost({ args: [...dev, '--dev', join(FIXTURES, 'hostile'), '--grant', `workspace=${workspace}`, '--grant', `api=${apiUrl}`] });
});

afterAll(async () => {
  await host?.close();
  await api?.close();
});

describe('mcp-warden serve over stdio', () => {
  describe('tools/list', () => {
    it('lists every tool of every package, namespaced and sorted', async () => {
      const { tools } = await host.client.listTools();
      const names = tools.map((t) => t.name);
      expect(names).toEqual([...names].sort());
      expect(names).toEqual(expect.arrayContaining(['text-tools__json_path', 'http-json__get_json', 'file-search__grep', 'number-crunch__count_primes', 'hostile__spin']));
      for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_.-]{1,128}$/);
    });

    it('gives the same answer every time, with the manifest schemas as written', async () => {
      const a = await host.client.listTools();
      const b = await host.client.listTools();
      expect(b).toEqual(a);
      const grep = a.tools.find((t) => t.name === 'file-search__grep');
      const manifest = JSON.parse(readFileSync(join(EXAMPLES, 'file-search', 'package.json'), 'utf8'));
      expect(grep?.inputSchema).toEqual(manifest.mcpWarden.tools[0].inputSchema);
      expect(grep?.outputSchema).toEqual(manifest.mcpWarden.tools[0].outputSchema);
    });

    it('warns loudly on stderr about --dev packages', () => {
      expect(host.stderr()).toContain('DEVELOPMENT MODE');
    });
  });

  describe('calling the example tools', () => {
    it('text-tools transforms text and JSON', async () => {
      expect(JSON.parse(text(await call('text-tools__json_path', { json: '{"a":[{"b":1},{"b":2}]}', path: 'a[*].b' })))).toEqual({ found: true, value: [1, 2] });
      expect(text(await call('text-tools__convert_case', { text: 'Hello big World', to: 'kebab' }))).toBe('hello-big-world');
      expect(text(await call('text-tools__base64', { text: 'héllo', mode: 'encode' }))).toBe('aMOpbGxv');
      expect(text(await call('text-tools__base64', { text: 'aMOpbGxv', mode: 'decode' }))).toBe('héllo');
      const sha = await call('text-tools__sha256', { text: 'abc' });
      expect(sha.structuredContent).toEqual({ hex: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', bytes: 3 });
      const wc = await call('text-tools__word_count', { text: 'a b a\nc', top: 1 });
      expect(wc.structuredContent).toEqual({ characters: 7, words: 4, lines: 2, top: [{ word: 'a', count: 2 }] });
    });

    it('http-json reaches the granted host', async () => {
      const got = JSON.parse(text(await call('http-json__get_json', { url: `${apiUrl}/things`, query: { q: 1 }, pick: 'items' })));
      expect(got).toEqual({ status: 200, data: [{ id: 1 }, { id: 2 }] });
      const posted = JSON.parse(text(await call('http-json__post_json', { url: `${apiUrl}/x`, body: { k: 'v' } })));
      expect(posted).toEqual({ status: 200, data: { echoed: { k: 'v' } } });
    });

    it('file-search searches, lists and reads the granted workspace', async () => {
      const grep = await call('file-search__grep', { pattern: 'needle', ignoreCase: true });
      expect(grep.structuredContent).toEqual({
        matches: [
          { file: 'a.txt', line: 2, text: 'needle one' },
          { file: 'sub/b.md', line: 2, text: 'another NEEDLE' },
        ],
        filesScanned: 2,
        truncated: false,
      });
      expect(JSON.parse(text(await call('file-search__list_files', {})))).toEqual({ files: [{ path: 'a.txt', size: 17 }, { path: 'sub/b.md', size: 20 }], truncated: false });
      expect(text(await call('file-search__read_file', { path: 'sub/b.md', fromLine: 2, toLine: 2 }))).toBe('another NEEDLE');
    });

    it('number-crunch computes and reports progress when asked', async () => {
      const progress: number[] = [];
      const r = await call('number-crunch__count_primes', { limit: 1_000_000, segment: 50_000 }, { onprogress: (p) => progress.push(p.progress) });
      expect(r.structuredContent).toEqual({ limit: 1_000_000, count: 78498, largest: 999983 });
      expect(progress.length).toBeGreaterThan(0);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
    });
  });

  describe('refusals', () => {
    it('answers invalid arguments with a tool error naming the field', async () => {
      const missing = await call('file-search__read_file', {});
      expect(missing.isError).toBe(true);
      expect(errorCode(missing)).toBe('INVALID_ARGUMENTS');
      expect(text(missing)).toContain('"path"');
      const wrongType = await call('text-tools__sha256', { text: 42 });
      expect(text(wrongType)).toMatch(/^INVALID_ARGUMENTS: arguments\.text must be string/);
      const extra = await call('text-tools__sha256', { text: 'x', sneaky: true });
      expect(text(extra)).toContain('unexpected property "sneaky"');
    });

    it('answers an unknown tool with a JSON-RPC invalid-params error', async () => {
      const err = await host.client.callTool({ name: 'nope__nothing', arguments: {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(McpError);
      expect((err as McpError).code).toBe(-32602);
    });

    it('denies a network request outside the grant', async () => {
      const r = await call('http-json__get_json', { url: 'https://example.com/' });
      expect(errorCode(r)).toBe('CAPABILITY_DENIED');
      const h = await call('hostile__exfiltrate', { url: `${apiUrl}/steal` });
      expect(errorCode(h)).toBe('CAPABILITY_DENIED');
    });

    it('denies a file read outside the grant', async () => {
      const r = await call('hostile__read_outside', { path: '/etc/hostname' });
      expect(errorCode(r)).toBe('CAPABILITY_DENIED');
    });

    it('checks structured output against the outputSchema', async () => {
      const r = await call('hostile__bad_output', {});
      expect(errorCode(r)).toBe('OUTPUT_SCHEMA_MISMATCH');
      expect(text(r)).toContain('result.n must be integer');
    });

    it('reports a tool that throws without a stack or host path', async () => {
      const r = await call('hostile__crash', {});
      expect(errorCode(r)).toBe('TOOL_THREW');
      expect(text(r)).toContain('boom from the tool');
      expect(text(r)).not.toMatch(/\bat\s|\/work\/|node_modules|file:\/\//);
    });
  });

  describe('a hostile package', () => {
    it.each([
      ['hostile__spin', ['SANDBOX_CPU_LIMIT', 'SANDBOX_TIMEOUT']],
      // The fixture's CPU limit (2 s) leaves the bomb room where touching memory is slow (README.md, *Testing under load*).
      ['hostile__membomb', ['SANDBOX_MEMORY_LIMIT']],
      ['hostile__flood', ['OUTPUT_TOO_LARGE', 'SANDBOX_MEMORY_LIMIT']],
      ['hostile__hang', ['SANDBOX_TIMEOUT']],
    ])('%s ends with its limit code while other packages keep answering', async (tool, codes) => {
      const bad = call(tool, {});
      // Meanwhile, another package answers, several times, each call within its own limits (no elapsed-time
      // assertion: how long they take depends on the machine's load, not on the hostile package).
      for (let i = 0; i < 5; i++) expect(text(await call('text-tools__convert_case', { text: `x${i}`, to: 'upper' }))).toBe(`X${i}`);
      const r = await bad;
      expect(r.isError).toBe(true);
      expect(codes).toContain(errorCode(r));
      // And the hostile package itself serves its next call.
      expect(errorCode(await call('hostile__crash', {}))).toBe('TOOL_THREW');
    });

    it('survives a log flood', async () => {
      const r = await call('hostile__logflood', {});
      expect(r.isError).toBe(true);
      expect(text(await call('text-tools__convert_case', { text: 'ok', to: 'upper' }))).toBe('OK');
    });
  });

  describe('cancellation', () => {
    it('stops the call in the sandbox and keeps serving', async () => {
      const controller = new AbortController();
      let sawProgress = false;
      const pending = call(
        'number-crunch__iterated_hash',
        { text: 'x', iterations: 10_000_000 },
        {
          signal: controller.signal,
          onprogress: () => {
            if (!sawProgress) {
              sawProgress = true;
              controller.abort();
            }
          },
        },
      );
      await expect(pending).rejects.toThrow();
      expect(sawProgress).toBe(true);
      expect(text(await call('text-tools__convert_case', { text: 'still here', to: 'upper' }))).toBe('STILL HERE');
      // The audit trail records the cancelled call: the host ended it when the cancellation arrived, before it
      // read the next call, and a record is on file before any later response leaves.
      expect(readFileSync(join(host.home, 'audit.log'), 'utf8')).toMatch(/"tool":"iterated_hash"[^\n]*"outcome":"CANCELLED"/);
    });
  });
});

describe('mcp-warden serve with installed packages', () => {
  it('serves verified installed packages, refuses a broken one, and announces list changes', async () => {
    const home = tempDir('home-installed');
    const install = (name: string, dir: string) => {
      mkdirSync(join(home, 'packages'), { recursive: true });
      cpSync(join(FIXTURES, name), join(home, dir), { recursive: true });
    };
    // Copied by hand, so the lock records the digests install would have (serve re-checks them).
    const entry = (dir: string) => ({ version: '1.0.0', integrity: `sha512-${'A'.repeat(86)}==`, dir, grant: { net: [], fs: [], slots: {} }, installedAt: new Date().toISOString(), files: existsSync(join(home, dir)) ? digestTree(join(home, dir)) : { 'package.json': 'sha512-x' } });
    install('greeter', 'packages/greeter@1.0.0');
    // A lock entry whose directory is missing: refused, the others load.
    writeSealedLock(home, { greeter: entry('packages/greeter@1.0.0'), ghost: entry('packages/ghost@1.0.0') });
    const h = await startHost({ home, args: ['--dev', join(EXAMPLES, 'text-tools')] });
    try {
      // tools/list waits for the packages to be verified; the refusal is reported by then.
      expect((await h.client.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining(['greeter__greet', 'text-tools__sha256']));
      expect(h.stderr()).toMatch(/REFUSED ghost: PACKAGE_INVALID/);
      expect(text((await h.client.callTool({ name: 'greeter__greet', arguments: { who: 'Ada' } })) as CallToolResult)).toBe('hello, Ada');
      expect(readFileSync(join(home, 'audit.log'), 'utf8')).toMatch(/"package":"ghost","event":"refused","code":"PACKAGE_INVALID"/);

      // Installing another package (a new lock.json) changes the list; the client is told.
      const changed = new Promise<void>((resolve) => h.client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
      install('hostile', 'packages/hostile@0.0.1');
      writeSealedLock(home, { greeter: entry('packages/greeter@1.0.0'), hostile: { ...entry('packages/hostile@0.0.1'), version: '0.0.1' } });
      await changed;
      expect((await h.client.listTools()).tools.map((t) => t.name)).toContain('hostile__crash');
    } finally {
      await h.close();
    }
  });
});
