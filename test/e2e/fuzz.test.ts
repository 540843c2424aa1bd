/**
 * Fuzz: thousands of malformed or hostile JSON-RPC lines (seeded, reproducible) written to the host's stdin.
 * After each batch the host must still be alive and answer a valid request correctly; every line it wrote
 * must be a well-formed JSON-RPC message. The corpus runs twice: once in a 2025-11-25 session (opened with
 * initialize) and once in a 2026-07-28 session (opened with server/discover; most fuzzed requests carry
 * the revision's per-request _meta, the rest none).
 */
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, EXAMPLES, childEnv, ensureBuilt, tempDir } from '../helpers/host.ts';
import { prng } from '../helpers/prng.ts';

const SEED = 0x5eed;
const BATCHES = 8;
const LINES_PER_BATCH = 400;

function generator(rand: () => number) {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const weird = [null, true, false, 0, -1, 1e308, -0, '', 'x', [], {}, [1, [2]], { a: { b: null } }, '\u0000', '\ud800', 'A'.repeat(1000)];
  const ids = [1, 0, -5, 'id', '', 1.5, null, true, {}, [], Number.MAX_SAFE_INTEGER + 2];
  const methods = ['tools/list', 'tools/call', 'initialize', 'ping', 'resources/list', 'resources/read', 'prompts/get', 'completion/complete', 'logging/setLevel', 'server/discover', 'resources/subscribe', 'nope', '', 'tools/call\n', 'notifications/cancelled', 'notifications/progress', '__proto__', 'constructor'];
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

type Message = Record<string, unknown> & { id?: unknown; error?: { code?: number; message?: string } };

type Revision = '2025-11-25' | '2026-07-28';

/** The per-request _meta of a 2026-07-28 request. */
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'fuzz', version: '0' },
};

function parsed(line: string): Message | null {
  try {
    const msg: unknown = JSON.parse(line);
    return msg !== null && typeof msg === 'object' && !Array.isArray(msg) ? (msg as Message) : null;
  } catch {
    return null;
  }
}

/**
 * For a 2026-07-28 session: most fuzzed messages with object params get the per-request _meta (so they
 * reach the handlers), the rest stay as they are (and must be refused without harm).
 */
function withEnvelope(rand: () => number): (line: string) => string {
  return (line) => {
    if (line.length > 100_000 || rand() < 0.3) return line;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      return line;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return line;
    const params = (msg as { params?: unknown }).params;
    if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) return line;
    try {
      return JSON.stringify({ ...msg, params: { ...(params as object | undefined), _meta: ENVELOPE } });
    } catch {
      return line; // nested too deep to re-serialize here: sent as generated
    }
  };
}

describe.each<[Revision]>([['2025-11-25'], ['2026-07-28']])('the host under malformed and hostile input, in a %s session', (revision) => {
  const modern = revision === '2026-07-28';
  let child: ChildProcessWithoutNullStreams;
  let out = '';
  /** Every line the host wrote to stdout, in order; tests remember an index and look only after it. */
  const lines: string[] = [];
  const wrote = new EventEmitter();

  /**
   * Resolves with the first message at index `from` or later that matches — now or when the host writes it;
   * event-driven (no polling, no clock of its own: the test's timeout is the only one). Rejects when the
   * host's stdout closes without such a message.
   */
  function waitFor(from: number, match: (m: Message) => boolean, what: string): Promise<{ message: Message; index: number }> {
    return new Promise((resolve, reject) => {
      let i = from;
      const done = () => {
        wrote.off('line', check);
        child.stdout.off('close', closed);
      };
      const scan = (): boolean => {
        for (; i < lines.length; i++) {
          const m = parsed(lines[i] as string);
          if (m && match(m)) {
            done();
            resolve({ message: m, index: i });
            return true;
          }
        }
        return false;
      };
      function check(): void {
        scan();
      }
      function closed(): void {
        if (scan()) return;
        done();
        reject(new Error(`the host closed stdout (exit ${child.exitCode ?? child.signalCode}) before ${what}`));
      }
      wrote.on('line', check);
      child.stdout.once('close', closed);
      if (!scan() && child.stdout.closed) closed();
    });
  }

  function send(line: string): void {
    child.stdin.write(`${line}\n`);
  }

  /** Sends a request (with the revision's _meta) and resolves with the host's answer to it. */
  async function request(id: string | number, method: string, params?: Record<string, unknown>): Promise<{ message: Message; index: number }> {
    const from = lines.length;
    const p = modern ? { ...params, _meta: ENVELOPE } : params;
    send(JSON.stringify({ jsonrpc: '2.0', id, method, ...(p === undefined ? {} : { params: p }) }));
    return waitFor(from, (m) => m.id === id, `the answer to ${String(id)}`);
  }

  /** A request every session answers with a result: ping (2025-11-25), server/discover (2026-07-28 has no ping). */
  const probe = (id: string | number) => (modern ? request(id, 'server/discover') : request(id, 'ping'));

  /**
   * A barrier: the transport answers malformed lines synchronously, in order, so once a request sent after
   * them is answered, every such answer to an earlier line has been written.
   */
  let barriers = 0;
  async function barrier(): Promise<void> {
    await probe(`barrier-${++barriers}`);
  }

  beforeAll(async () => {
    ensureBuilt();
    child = spawn(process.execPath, [CLI, 'serve', '--home', tempDir('fuzz'), '--workers', '2', '--rate-limit', '1000/s:2000', '--dev', join(EXAMPLES, 'text-tools')], {
      env: childEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => {
      out += c;
      const parts = out.split('\n');
      out = parts.pop() ?? '';
      lines.push(...parts);
      if (parts.length > 0) wrote.emit('line');
    });
    child.stderr.resume();
    if (modern) {
      expect((await request(1, 'server/discover')).message.result).toMatchObject({ supportedVersions: ['2026-07-28'] });
      // A request after the probe pins the connection to 2026-07-28 (a legacy line could still switch a
      // connection that only probed).
      expect((await request(2, 'tools/list')).message.result).toMatchObject({ resultType: 'complete' });
    } else {
      await request(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '0' } });
      send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    }
  }, 60_000);

  afterAll(() => {
    child?.kill();
  });

  it(`answers correctly after each of ${BATCHES} batches of ${LINES_PER_BATCH} fuzzed lines`, async () => {
    const next = generator(prng(SEED));
    const envelope = modern ? withEnvelope(prng(SEED + 1)) : (line: string) => line;
    for (let b = 0; b < BATCHES; b++) {
      for (let i = 0; i < LINES_PER_BATCH; i++) send(envelope(next()));
      // The fuzzed tool calls may still fill the package's concurrency slots: a CONCURRENCY_LIMIT refusal is
      // a correct answer too. A slot holder was still running when the probe was refused, so its answer
      // comes after the probe was sent: wait for that answer (an event, not a sleep), then probe again.
      let reply: Message = {};
      for (let attempt = 0; ; attempt++) {
        const id = `probe-${b}-${attempt}`; // a string id: no fuzzed line can carry it
        const from = lines.length;
        ({ message: reply } = await request(id, 'tools/call', { name: 'text-tools__sha256', arguments: { text: 'abc' } }));
        const code = (reply.result as { _meta?: Record<string, { code?: string }> } | undefined)?._meta?.['dev.mcp-warden/error']?.code;
        if (code !== 'CONCURRENCY_LIMIT' || attempt >= LINES_PER_BATCH) break;
        await waitFor(from, (m) => m.id !== id, 'the answer to a fuzzed call holding a slot');
      }
      expect(reply.result).toMatchObject({ structuredContent: { hex: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' } });
      expect(child.exitCode).toBeNull();
    }
    // Everything the host wrote is a JSON-RPC message.
    for (const l of lines) {
      const msg = JSON.parse(l) as Record<string, unknown>;
      expect(msg.jsonrpc).toBe('2.0');
    }
  }, 180_000);

  it.each([
    ['invalid JSON', '{"jsonrpc":', null, -32700],
    ['a batch', JSON.stringify([{ jsonrpc: '2.0', id: 5, method: 'ping' }]), null, -32600],
    ['a request without jsonrpc', JSON.stringify({ id: 'no-jsonrpc', method: 'ping' }), 'no-jsonrpc', -32600],
    ['params that are not an object', JSON.stringify({ jsonrpc: '2.0', id: 'params-string', method: 'tools/list', params: 'all' }), 'params-string', -32600],
    ['tools/list with a param of the wrong type', JSON.stringify({ jsonrpc: '2.0', id: 'cursor-number', method: 'tools/list', params: { cursor: 42, _meta: ENVELOPE } }), 'cursor-number', -32602],
    ['tools/list with a forged cursor', JSON.stringify({ jsonrpc: '2.0', id: 'cursor-forged', method: 'tools/list', params: { cursor: 'WzEsMl0.AAAAAAAAAAAAAAAAAAAAAA', ...(modern ? { _meta: ENVELOPE } : {}) } }), 'cursor-forged', -32602],
  ])('answers %s with the JSON-RPC error it names', async (_what, line, id, code) => {
    // Earlier malformed lines are all answered before this barrier is; after it, the first error with this
    // id (null for the unparseable ones) is the answer to this line.
    await barrier();
    const from = lines.length;
    send(line as string);
    const { message } = await waitFor(from, (m) => m.id === id && m.error !== undefined, `an error for ${String(id)}`);
    expect(message.error?.code).toBe(code);
  }, 60_000);

  it('answers unknown methods and wrong params without dying', async () => {
    expect((await request(7001, 'does/not/exist')).message.error?.code).toBe(-32601);
    expect((await request(7002, 'tools/call', { name: 42 })).message.error?.code).toBe(-32602);
    expect((await request(7003, 'tools/list')).message.result).toBeDefined();
  }, 60_000);

  it('discards an oversized line and keeps serving', async () => {
    const from = lines.length;
    const big = JSON.stringify({ jsonrpc: '2.0', id: 8000, method: 'tools/call', params: { name: 'text-tools__sha256', arguments: { text: 'x'.repeat(6 * 1024 * 1024) } } });
    for (let i = 0; i < big.length; i += 64 * 1024) child.stdin.write(big.slice(i, i + 64 * 1024));
    child.stdin.write('\n');
    await waitFor(from, (m) => m.error?.message?.includes('Message too large') === true, 'the oversized-line error');
    expect((await probe(8001)).message.result).toBeDefined();
  }, 60_000);
});
