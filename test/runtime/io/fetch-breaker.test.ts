import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopback } from '../../helpers/loopback.ts';
import type { Loopback } from '../../helpers/loopback.ts';
import { parseNetGrant } from '../../../runtime/capabilities/net.ts';
import type { SandboxError } from '../../../runtime/errors.ts';
import { createBreakerRegistry } from '../../../runtime/io/breaker.ts';
import { guardedFetch } from '../../../runtime/io/fetch.ts';
import type { GuardedRequest } from '../../../runtime/io/fetch.ts';
import type { CapabilityEvent } from '../../../runtime/types.ts';

// What guardedFetch counts as a failure of the remote, against a real server on 127.0.0.1. The breakers'
// clock never moves (0): the cool-down cannot pass by itself.
const LIMITS = { fetchTimeoutMs: 30_000, maxRequestBytes: 1024, maxResponseBytes: 4096 };
let server: Loopback;
let port = 0;
let down: Loopback; // another origin (another port) that always answers 502
let downPort = 0;
const arrivals: (() => void)[] = [];

beforeAll(async () => {
  server = await startLoopback((req, res) => {
    if (req.url === '/hang') {
      arrivals.shift()?.();
      return; // never answered
    }
    if (req.url === '/to-down') {
      res.writeHead(302, { location: `http://127.0.0.1:${downPort}/down` });
      res.end();
      return;
    }
    res.writeHead(404);
    res.end();
  });
  port = server.port;
  down = await startLoopback((_req, res) => {
    res.writeHead(502);
    res.end();
  });
  downPort = down.port;
});
afterAll(async () => {
  await server.close();
  await down.close();
});

const get = (path: string, host = '127.0.0.1'): GuardedRequest => ({ url: `http://${host}:${port}${path}`, method: 'GET', headers: [], body: null });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    return (e as SandboxError).code;
  }
}

function setup(failureThreshold = 1): { events: CapabilityEvent[]; opts: Parameters<typeof guardedFetch>[2] } {
  const events: CapabilityEvent[] = [];
  const onEvent = (e: CapabilityEvent): void => void events.push(e);
  const breaker = createBreakerRegistry({ enabled: true, failureThreshold, cooldownMs: 1_000 }, () => 0).forPackage('p', onEvent);
  return { events, opts: { limits: LIMITS, onEvent, breaker } };
}

describe('guardedFetch and the circuit breaker', () => {
  const grant = () => parseNetGrant([`http://127.0.0.1:${port}`, `http://127.0.0.1:${downPort}`]);

  it('a timeout is a failure', async () => {
    const { events, opts } = setup();
    expect(await codeOf(guardedFetch(grant(), get('/hang'), { ...opts, limits: { ...LIMITS, fetchTimeoutMs: 200 } }))).toBe('CAPABILITY_FAILED');
    expect(await codeOf(guardedFetch(grant(), get('/ok'), opts))).toBe('CIRCUIT_OPEN');
    expect(events.map((e) => [e.kind, e.op, e.code])).toEqual([
      ['net', 'GET', undefined],
      ['breaker', 'open', 'CIRCUIT_OPEN'],
      ['net', 'GET', 'CIRCUIT_OPEN'],
    ]);
  });

  it('a cancelled fetch is not a failure', async () => {
    const { opts } = setup();
    const ac = new AbortController();
    const arrived = new Promise<void>((r) => arrivals.push(r));
    const call = codeOf(guardedFetch(grant(), get('/hang'), { ...opts, signal: ac.signal }));
    await arrived;
    ac.abort();
    expect(await call).toBe('CANCELLED');
    expect(await codeOf(guardedFetch(grant(), get('/ok'), opts))).toBe('OK'); // a 404 is the remote working
  });

  it('a connection refused is a failure', async () => {
    const { opts } = setup();
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const g = parseNetGrant([`http://127.0.0.1:${deadPort}`]);
    const req: GuardedRequest = { url: `http://127.0.0.1:${deadPort}/`, method: 'GET', headers: [], body: null };
    expect(await codeOf(guardedFetch(g, req, opts))).toBe('CAPABILITY_FAILED');
    expect(await codeOf(guardedFetch(g, req, opts))).toBe('CIRCUIT_OPEN');
  });

  it('counts each redirect hop for its own origin', async () => {
    const { events, opts } = setup();
    expect(await codeOf(guardedFetch(grant(), get('/to-down'), opts))).toBe('OK'); // the 502 is returned to the tool
    expect(events.filter((e) => e.kind === 'breaker')).toEqual([{ kind: 'breaker', op: 'open', target: `http://127.0.0.1:${downPort}`, allowed: false, code: 'CIRCUIT_OPEN' }]);
    expect(await codeOf(guardedFetch(grant(), get('/ok'), opts))).toBe('OK');
    expect(await codeOf(guardedFetch(grant(), get('/to-down'), opts))).toBe('CIRCUIT_OPEN');
  });
});
