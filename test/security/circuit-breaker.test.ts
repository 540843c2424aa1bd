import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopback } from '../helpers/loopback.ts';
import type { Loopback } from '../helpers/loopback.ts';
import { openAudit } from '../../host/serve/audit.ts';
import type { CapabilityEvent } from '../../runtime/index.ts';
import { codeOf, grantOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// A tool keeps calling a flaky API: a real server on 127.0.0.1, through the real sandbox. The breaker's
// clock is the test's own, so the cool-down passes when the test says so, never by waiting.
let mode: 'fail' | 'reset' | 'ok' = 'fail';
let hits = 0;
let server: Loopback;
let port = 0;
let clock = 0;

const sandbox = newSandbox({ circuitBreaker: { enabled: true, failureThreshold: 3, cooldownMs: 60_000 }, breakerClock: () => clock });

beforeAll(async () => {
  server = await startLoopback((req, res) => {
    hits++;
    if (mode === 'reset') {
      req.socket.destroy();
      return;
    }
    res.writeHead(mode === 'fail' ? 503 : 200);
    res.end(mode);
  });
  port = server.port;
});
afterAll(async () => {
  await sandbox.close();
  await server.close();
});

const tool = inlinePackage(`export default {
  get: async ({ url }) => {
    try {
      const r = await fetch(url);
      return { status: r.status };
    } catch (e) {
      return { code: e.code, message: String(e.message) };
    }
  },
  uncaught: async ({ url }) => { await fetch(url); return 'unreachable'; },
}`);

describe('circuit breaker against a flaky server, through the real sandbox', () => {
  const events: CapabilityEvent[] = [];
  const run = async (name = 'get'): Promise<Record<string, unknown>> => {
    const grant = await grantOf([`http://127.0.0.1:${port}`]);
    const { value } = await sandbox.run(tool, name, { url: `http://127.0.0.1:${port}/api` }, grant, limits({ wallMs: 20_000 }), { onCapability: (e) => events.push(e) });
    return value as Record<string, unknown>;
  };
  const origin = (): string => `http://127.0.0.1:${port}`;

  it('opens after repeated 5xx and connection errors, fails fast without reaching the server, half-opens after the cool-down and closes on success', async () => {
    // Two 503s and a reset connection: three failures in a row.
    expect(await run()).toEqual({ status: 503 });
    expect(await run()).toEqual({ status: 503 });
    mode = 'reset';
    expect(await run()).toMatchObject({ code: 'CAPABILITY_FAILED' });
    expect(hits).toBe(3);
    expect(events.filter((e) => e.kind === 'breaker')).toEqual([{ kind: 'breaker', op: 'open', target: origin(), allowed: false, code: 'CIRCUIT_OPEN' }]);

    // Open: refused at once, with a retry-after; the server sees nothing.
    mode = 'ok';
    const refused = await run();
    expect(refused.code).toBe('CIRCUIT_OPEN');
    expect(refused.message).toMatch(/retry after 60 s \(retryAfterMs=60000\)/);
    expect(events.at(-1)).toEqual({ kind: 'net', op: 'GET', target: origin(), allowed: false, code: 'CIRCUIT_OPEN' });
    // Not caught by the tool: the call fails with the breaker's own code (not CAPABILITY_DENIED).
    expect(await codeOf(run('uncaught'))).toBe('CIRCUIT_OPEN');
    clock += 59_999;
    expect((await run()).code).toBe('CIRCUIT_OPEN');
    expect(hits).toBe(3);

    // Cool-down over: one trial goes out, succeeds, and closes the breaker.
    clock += 1;
    expect(await run()).toEqual({ status: 200 });
    expect(await run()).toEqual({ status: 200 });
    expect(hits).toBe(5);
    expect(events.filter((e) => e.kind === 'breaker').map((e) => e.op)).toEqual(['open', 'half-open', 'close']);
  });

  it('writes the state changes to the audit trail', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'warden-breaker-'));
    try {
      const audit = await openAudit(join(dir, 'audit.log'), join(dir, 'audit.key'));
      for (const e of events) audit.capability('flaky-client', 'get', e);
      await audit.close();
      const lines = (await readFile(join(dir, 'audit.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const breaker = lines.filter((l) => l.kind === 'breaker').map((l) => [l.op, l.target, l.allowed]);
      expect(breaker).toEqual([
        ['open', origin(), false],
        ['half-open', origin(), true],
        ['close', origin(), true],
      ]);
      expect(lines.filter((l) => l.code === 'CIRCUIT_OPEN' && l.kind === 'net')).toHaveLength(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
