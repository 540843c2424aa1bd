import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNetGrant } from '../../../runtime/capabilities/net.ts';
import { guardedFetch } from '../../../runtime/io/fetch.ts';

// Kept-alive sockets make repeated fetches cheap, but a pooled socket must never carry one check over to
// a request it was not checked for: another grant, or another resolved address.
const LIMITS = { fetchTimeoutMs: 2_000, maxRequestBytes: 1024, maxResponseBytes: 4096 };
let server: http.Server;
let port = 0;
const connections: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => res.end(`${req.socket.localAddress}`));
  server.on('connection', (s) => connections.push(s.localAddress ?? ''));
  await new Promise<void>((r) => server.listen(port, '0.0.0.0', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise((r) => server.close(r)));

const get = (url: string) => ({ url, method: 'GET', headers: [] as [string, string][], body: null });

describe('guardedFetch connection reuse', () => {
  it('reuses a connection for the same grant and the same checked address', async () => {
    connections.length = 0;
    const grant = parseNetGrant([`http://127.0.0.1:${port}`]);
    for (let i = 0; i < 3; i++) await guardedFetch(grant, get(`http://127.0.0.1:${port}/`), { limits: LIMITS });
    expect(connections).toHaveLength(1);
  });

  it('keeps the connections of a burst of concurrent fetches for the next burst instead of opening new ones', async () => {
    connections.length = 0;
    const grant = parseNetGrant([`http://127.0.0.1:${port}`]);
    const burst = () => Promise.all(Array.from({ length: 16 }, () => guardedFetch(grant, get(`http://127.0.0.1:${port}/`), { limits: LIMITS })));
    await burst();
    const opened = connections.length;
    await burst();
    // At most the agent's 16 sockets per origin, whatever the first burst opened: none is closed on return.
    expect(opened).toBeLessThanOrEqual(16);
    expect(connections).toHaveLength(opened);
  });

  it('never shares a connection between two grants, even with the same rules', async () => {
    connections.length = 0;
    const a = parseNetGrant([`http://127.0.0.1:${port}`]);
    const b = parseNetGrant([`http://127.0.0.1:${port}`]);
    await guardedFetch(a, get(`http://127.0.0.1:${port}/`), { limits: LIMITS });
    await guardedFetch(b, get(`http://127.0.0.1:${port}/`), { limits: LIMITS });
    expect(connections).toHaveLength(2);
  });

  it('opens a new connection when the name now resolves to another address (no rebinding through the pool)', async () => {
    connections.length = 0;
    const grant = parseNetGrant([`http://api.test:${port}`, `http://127.0.0.0/8:${port}`]);
    let answer = '127.0.0.1';
    const resolve = async () => [{ address: answer, family: 4 as const }];
    const first = await guardedFetch(grant, get(`http://api.test:${port}/`), { limits: LIMITS, resolve });
    answer = '127.0.0.2';
    const second = await guardedFetch(grant, get(`http://api.test:${port}/`), { limits: LIMITS, resolve });
    expect(new TextDecoder().decode(first.body)).toBe('127.0.0.1');
    expect(new TextDecoder().decode(second.body)).toBe('127.0.0.2');
    expect(connections).toEqual(['127.0.0.1', '127.0.0.2']);
  });
});
