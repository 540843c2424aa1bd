/**
 * Fuzz: thousands of malformed or hostile JSON-RPC lines (seeded, reproducible) written to the host's stdin.
 * After each batch the host must still be alive and answer a valid request correctly; every line it wrote
 * must be a well-formed JSON-RPC message.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, EXAMPLES, childEnv, ensureBuilt, tempDir } from '../helpers/host.ts';

/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 0x5eed;
const BATCHES = 8;
const LINES_PER_BATCH = 400;

function generator(rand: () => number) {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const weird = [null, true, false, 0, -1, 1e308, -0, '', 'x', [], {}, [1, [2]], { a: { b: null } }, '\u0000', '\ud800', 'A'.repeat(1000)];
  const ids = [1, 0, -5, 'id', '', 1.5, null, true, {}, [], Number.MAX_SAFE_INTEGER + 2];
  const methods = ['tools/list', 'tools/call', 'initialize', 'ping', 'resources/list', 'nope', '', 'tools/call\n', 'notifications/cancelled', 'notifications/progress', '__proto__', 'constructor'];
  const tools = ['text-tools__sha256', 'text-tools__json_path', 'text-tools__convert_case', 'missing__tool', '', '__proto__', 'text-tools__'];
  const randomText = (n: number) => Array.from({ length: n }, () => String.fromCharCode(int(0x3000))).join('');
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const makers: (() => string)[] = [
    () => randomText(int(200)),
    () => '{',
    () => '{"jsonrpc":"2.0","id":1,"method":"tools/list"'.slice(0, int(45)),
    () => JSON.stringify(pick(weird)),
    () => JSON.stringify({ jsonrpc: pick(['1.0', '2.0', 2, null]), id: pick(ids), method: pick(methods), params: pick(weird) }),
    () => JSON.stringify({ jsonrpc: '2.0', id: int(1e6) + 1000, method: pick(methods), params: pick(weird) }),
    () => JSON.stringify({ jsonrpc: '2.0', id: int(1e6) + 1000, method: 'tools/call', params: { name: pick(tools), arguments: pick(weird) } }),
    () => JSON.stringify({ jsonrpc: '2.0', id: int(1e6) + 1000, method: 'tools/call', params: { name: 'text-tools__json_path', arguments: { json: randomText(int(50)), path: randomText(int(20)) } } }),
    () => JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: pick(ids), reason: pick(weird) } }),
    () => JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: pick(ids), progress: pick(weird) } }),
    () => JSON.stringify({ jsonrpc: '2.0', id: pick(ids), result: pick(weird) }),
    () => JSON.stringify({ jsonrpc: '2.0', id: pick(ids), error: { code: pick(ids), message: pick(weird) } }),
    () => JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'ping' }]),
    () => `{"jsonrpc":"2.0","id":${int(1e6) + 1000},"method":"tools/call","params":{"name":"text-tools__sha256","arguments":{"text":${JSON.stringify(randomText(int(3000)))}}}}`,
    () => deep(int(2) === 0 ? 50 : 20_000),
    () => `{"jsonrpc":"2.0","id":${int(1e6) + 1000},"method":"tools/call","params":{"name":"text-tools__sha256","arguments":{"text":"a","x":${deep(int(2) === 0 ? 100 : 5000)}}}}`,
    () => JSON.stringify({ jsonrpc: '2.0', id: int(1e6) + 1000, method: 'tools/call', params: { name: 'text-tools__sha256', arguments: { __proto__: { polluted: true }, text: 'p' } } }).replace('"text"', '"__proto__":{"polluted":true},"text"'),
    () => '\r',
    () => '   ',
  ];
  return () => pick(makers)();
}

let child: ChildProcessWithoutNullStreams;
let out = '';
let lines: string[] = [];

function waitForId(id: number, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      for (const l of lines) {
        if (!l.includes(`"id":${id}`)) continue;
        const msg = JSON.parse(l) as Record<string, unknown>;
        if (msg.id === id) return resolve(msg);
      }
      if (child.exitCode !== null) return reject(new Error(`host exited with ${child.exitCode}`));
      if (Date.now() - started > timeoutMs) return reject(new Error(`no answer to id ${id}`));
      setTimeout(check, 20);
    };
    check();
  });
}

function send(line: string): void {
  child.stdin.write(`${line}\n`);
}

beforeAll(async () => {
  ensureBuilt();
  child = spawn(process.execPath, [CLI, 'serve', '--home', tempDir('fuzz'), '--workers', '2', '--rate-limit', '1000/s:2000', '--dev', join(EXAMPLES, 'text-tools')], {
    env: childEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    const parts = out.split('\n');
    out = parts.pop() ?? '';
    lines.push(...parts);
  });
  child.stderr.resume();
  send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } } }));
  await waitForId(1);
  send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
});

afterAll(() => {
  child?.kill();
});

describe('the host under malformed and hostile input', () => {
  it(`answers correctly after each of ${BATCHES} batches of ${LINES_PER_BATCH} fuzzed lines`, async () => {
    const next = generator(prng(SEED));
    for (let b = 0; b < BATCHES; b++) {
      for (let i = 0; i < LINES_PER_BATCH; i++) send(next());
      // The fuzzed tool calls may still fill the package's concurrency slots: a CONCURRENCY_LIMIT or
      // RATE_LIMITED tool error is a correct answer too, so the probe retries until the slots drain.
      let reply: Record<string, unknown> = {};
      for (let attempt = 0; attempt < 50; attempt++) {
        const id = 1000 * (b + 1) + attempt;
        send(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'text-tools__sha256', arguments: { text: 'abc' } } }));
        reply = await waitForId(id);
        const code = ((reply.result as { _meta?: Record<string, { code?: string }> })?._meta?.['dev.mcp-warden/error'])?.code;
        if (code !== 'CONCURRENCY_LIMIT' && code !== 'RATE_LIMITED') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(reply.result).toMatchObject({ structuredContent: { hex: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' } });
      expect(child.exitCode).toBeNull();
    }
    // Everything the host wrote is a JSON-RPC message.
    for (const l of lines) {
      const msg = JSON.parse(l) as Record<string, unknown>;
      expect(msg.jsonrpc).toBe('2.0');
    }
    lines = [];
  }, 180_000);

  it.each([
    ['invalid JSON', '{"jsonrpc":', null, -32700],
    ['a batch', JSON.stringify([{ jsonrpc: '2.0', id: 5, method: 'ping' }]), null, -32600],
    ['a request without jsonrpc', JSON.stringify({ id: 9006, method: 'ping' }), 9006, -32600],
    ['params that are not an object', JSON.stringify({ jsonrpc: '2.0', id: 9007, method: 'tools/list', params: 'all' }), 9007, -32600],
    ['tools/list with a param of the wrong type', JSON.stringify({ jsonrpc: '2.0', id: 9008, method: 'tools/list', params: { cursor: 42 } }), 9008, -32602],
  ])('answers %s with the JSON-RPC error it names', async (_what, line, id, code) => {
    // Let earlier calls drain, then look only at the answer to this line.
    await new Promise((r) => setTimeout(r, 300));
    lines = [];
    send(line as string);
    const mine = () => lines.map((l) => JSON.parse(l) as { id: unknown; error?: { code: number } }).find((m) => m.id === id && m.error);
    await expect.poll(mine, { timeout: 5_000 }).toBeDefined();
    expect(mine()?.error?.code).toBe(code);
  });

  it('answers unknown methods and wrong params without dying', async () => {
    send(JSON.stringify({ jsonrpc: '2.0', id: 7001, method: 'does/not/exist' }));
    expect(((await waitForId(7001)).error as { code: number }).code).toBe(-32601);
    send(JSON.stringify({ jsonrpc: '2.0', id: 7002, method: 'tools/call', params: { name: 42 } }));
    expect(((await waitForId(7002)).error as { code: number }).code).toBe(-32602);
    send(JSON.stringify({ jsonrpc: '2.0', id: 7003, method: 'tools/list' }));
    expect((await waitForId(7003)).result).toBeDefined();
  });

  it('discards an oversized line and keeps serving', async () => {
    lines = [];
    const big = JSON.stringify({ jsonrpc: '2.0', id: 8000, method: 'tools/call', params: { name: 'text-tools__sha256', arguments: { text: 'x'.repeat(6 * 1024 * 1024) } } });
    for (let i = 0; i < big.length; i += 64 * 1024) child.stdin.write(big.slice(i, i + 64 * 1024));
    child.stdin.write('\n');
    await expect.poll(() => lines.some((l) => l.includes('Message too large')), { timeout: 10_000 }).toBe(true);
    send(JSON.stringify({ jsonrpc: '2.0', id: 8001, method: 'ping' }));
    expect((await waitForId(8001)).result).toEqual({});
  });
});
