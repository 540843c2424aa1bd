import { EventEmitter } from 'node:events';
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopback } from '../../helpers/loopback.ts';
import { parseNetGrant } from '../../../runtime/capabilities/net.ts';
import { SandboxError } from '../../../runtime/errors.ts';
import { guardedFetch } from '../../../runtime/io/fetch.ts';
import type { GuardedFetchOptions, GuardedRequest, Resolver } from '../../../runtime/io/fetch.ts';
import type { CapabilityEvent } from '../../../runtime/types.ts';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A real HTTP server on 127.0.0.1 that records what reached it. */
async function startServer(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void): Promise<{ port: number; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = await startLoopback((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  return { port: server.port, seen, close: server.close };
}

// A generous fetch timeout: a loaded machine is slow, not broken; the timeout test sets its own.
const LIMITS = { fetchTimeoutMs: 30_000, maxRequestBytes: 1024, maxResponseBytes: 4096 };

/** Requests to /hang are never answered; each arrival is announced, with the close of its connection. */
const hanging = new EventEmitter();
function nextHang(): Promise<{ closed: Promise<void> }> {
  return new Promise((resolve) => hanging.once('arrived', resolve));
}

function get(url: string, extra: Partial<GuardedRequest> = {}): GuardedRequest {
  return { url, method: 'GET', headers: [], body: null, ...extra };
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SandboxError);
    return { code: (e as SandboxError).code, message: (e as SandboxError).message };
  }
  throw new Error('expected a rejection');
}

const resolverTo =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const);

describe('guardedFetch', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  let other: Awaited<ReturnType<typeof startServer>>;

  beforeAll(async () => {
    other = await startServer((_req, res) => res.end('other'));
    srv = await startServer((req, res, body) => {
      const u = new URL(req.url ?? '/', 'http://x');
      switch (u.pathname) {
        case '/hello':
          res.setHeader('x-test', 'yes');
          res.end('hello');
          return;
        case '/echo':
          res.end(JSON.stringify({ method: req.method, body, auth: req.headers.authorization ?? null, host: req.headers.host }));
          return;
        case '/to-other':
          res.writeHead(302, { location: `http://127.0.0.1:${other.port}/secret?token=abc` }).end();
          return;
        case '/to-self':
          res.writeHead(Number(u.searchParams.get('status') ?? 302), { location: '/echo' }).end();
          return;
        case '/loop':
          res.writeHead(302, { location: '/loop' }).end();
          return;
        case '/big':
          res.end(Buffer.alloc(10_000, 97));
          return;
        case '/big-chunked':
          res.write(Buffer.alloc(3000, 97));
          res.write(Buffer.alloc(3000, 97));
          res.end();
          return;
        case '/hang': {
          const closed = new Promise<void>((r) => res.once('close', () => r()));
          hanging.emit('arrived', { closed });
          return;
        }
        case '/half':
          // 10 of the 100 bytes it announces, then the connection drops.
          res.writeHead(200, { 'content-length': '100' });
          res.write(Buffer.alloc(10, 97), () => res.socket?.destroy());
          return;
        case '/half-hang': {
          // The head and part of the body, then nothing more.
          const closed = new Promise<void>((r) => res.once('close', () => r()));
          res.writeHead(200, { 'content-length': '100' });
          res.write(Buffer.alloc(10, 97), () => hanging.emit('arrived', { closed }));
          return;
        }
        default:
          res.statusCode = 404;
          res.end('nope');
      }
    });
  });

  afterAll(async () => {
    await srv.close();
    await other.close();
  });

  const base = (): string => `http://127.0.0.1:${srv.port}`;
  const grant = () => parseNetGrant([`http://127.0.0.1:${srv.port}`]);

  describe('when the origin is granted', () => {
    it('returns status, headers and body, and reports an allowed event without path or query', async () => {
      const events: CapabilityEvent[] = [];
      const res = await guardedFetch(grant(), get(`${base()}/hello?q=secret`), { limits: LIMITS, onEvent: (e) => events.push(e) });
      expect(res.status).toBe(200);
      expect(Buffer.from(res.body).toString()).toBe('hello');
      expect(res.headers).toContainEqual(['x-test', 'yes']);
      expect(res.redirected).toBe(false);
      expect(events).toEqual([{ kind: 'net', op: 'GET', target: `http://127.0.0.1:${srv.port}`, allowed: true }]);
    });

    it('sends the body with a computed content-length and drops forbidden headers', async () => {
      const body = new TextEncoder().encode('payload');
      const res = await guardedFetch(
        grant(),
        get(`${base()}/echo`, {
          method: 'post',
          body,
          headers: [
            ['Content-Length', '9999'],
            ['Host', 'evil.example'],
            ['Connection', 'close'],
            ['Proxy-Authorization', 'x'],
            ['Transfer-Encoding', 'chunked'],
          ],
        }),
        { limits: LIMITS },
      );
      expect(JSON.parse(Buffer.from(res.body).toString())).toEqual({ method: 'POST', body: 'payload', auth: null, host: `127.0.0.1:${srv.port}` });
      const seen = srv.seen.at(-1);
      expect(seen?.headers['content-length']).toBe('7');
      expect(seen?.headers['proxy-authorization']).toBeUndefined();
      expect(seen?.headers['transfer-encoding']).toBeUndefined();
    });

    it('refuses a header value carrying CR/LF', async () => {
      expect((await failure(guardedFetch(grant(), get(`${base()}/echo`, { headers: [['x-a', 'b\r\nx-injected: 1']] }), { limits: LIMITS }))).code).toBe('CAPABILITY_FAILED');
    });
  });

  describe('when the origin is not granted', () => {
    it('is refused and the server never sees the request', async () => {
      const before = other.seen.length;
      const events: CapabilityEvent[] = [];
      const err = await failure(guardedFetch(grant(), get(`http://127.0.0.1:${other.port}/x?token=abc`), { limits: LIMITS, onEvent: (e) => events.push(e) }));
      expect(err.code).toBe('CAPABILITY_DENIED');
      expect(err.message).toContain('NET_PORT_NOT_GRANTED');
      expect(err.message).not.toContain('token');
      expect(other.seen.length).toBe(before);
      expect(events).toEqual([{ kind: 'net', op: 'GET', target: `http://127.0.0.1:${other.port}`, allowed: false, code: 'NET_PORT_NOT_GRANTED' }]);
    });

    it.each([
      ['a numeric alias of the granted loopback on another port', (p: number) => `http://2130706433:${p}/`],
      ['credentials in the URL', (p: number) => `http://user:pw@127.0.0.1:${p}/`],
      ['an https URL for an http rule', (p: number) => `https://127.0.0.1:${p}/`],
    ])('refuses %s', async (_name, make) => {
      const before = other.seen.length;
      const err = await failure(guardedFetch(parseNetGrant([`http://127.0.0.1:${srv.port}`]), get(make(other.port)), { limits: LIMITS }));
      expect(err.code).toBe('CAPABILITY_DENIED');
      expect(other.seen.length).toBe(before);
    });

    it('refuses everything under an empty grant', async () => {
      expect((await failure(guardedFetch(parseNetGrant([]), get(`${base()}/hello`), { limits: LIMITS }))).code).toBe('CAPABILITY_DENIED');
    });
  });

  describe('when a granted server redirects', () => {
    it('refuses the hop to a host that is not granted, before it is contacted', async () => {
      const before = other.seen.length;
      const events: CapabilityEvent[] = [];
      const err = await failure(guardedFetch(grant(), get(`${base()}/to-other`), { limits: LIMITS, onEvent: (e) => events.push(e) }));
      expect(err.code).toBe('CAPABILITY_DENIED');
      expect(other.seen.length).toBe(before);
      expect(events.map((e) => e.allowed)).toEqual([true, false]);
      expect(events[1]?.target).toBe(`http://127.0.0.1:${other.port}`);
    });

    it('follows a same-origin redirect and keeps the authorization header', async () => {
      const res = await guardedFetch(grant(), get(`${base()}/to-self`, { headers: [['authorization', 'Bearer t']] }), { limits: LIMITS });
      expect(res.redirected).toBe(true);
      expect(res.url).toBe(`${base()}/echo`);
      expect(JSON.parse(Buffer.from(res.body).toString())).toMatchObject({ method: 'GET', auth: 'Bearer t' });
    });

    it('drops authorization and cookie on a cross-origin hop', async () => {
      const both = parseNetGrant([`http://127.0.0.1:${srv.port}`, `http://127.0.0.1:${other.port}`]);
      const res = await guardedFetch(both, get(`${base()}/to-other`, { headers: [['authorization', 'Bearer t'], ['cookie', 'a=b'], ['x-keep', '1']] }), { limits: LIMITS });
      expect(Buffer.from(res.body).toString()).toBe('other');
      const seen = other.seen.at(-1);
      expect(seen?.headers.authorization).toBeUndefined();
      expect(seen?.headers.cookie).toBeUndefined();
      expect(seen?.headers['x-keep']).toBe('1');
    });

    it.each([
      [303, 'POST', 'GET', ''],
      [302, 'POST', 'GET', ''],
      [301, 'POST', 'GET', ''],
      [307, 'POST', 'POST', 'data'],
      [308, 'PUT', 'PUT', 'data'],
    ])('a %i after %s continues as %s', async (status, method, expectedMethod, expectedBody) => {
      const res = await guardedFetch(grant(), get(`${base()}/to-self?status=${status}`, { method, body: new TextEncoder().encode('data') }), { limits: LIMITS });
      expect(JSON.parse(Buffer.from(res.body).toString())).toMatchObject({ method: expectedMethod, body: expectedBody });
    });

    it('gives up after maxRedirects', async () => {
      const err = await failure(guardedFetch(grant(), get(`${base()}/loop`), { limits: LIMITS, maxRedirects: 3 }));
      expect(err).toEqual({ code: 'CAPABILITY_FAILED', message: 'more than 3 redirects' });
    });
  });

  describe('when a granted hostname resolves to a private address', () => {
    it('is refused as NET_PRIVATE_ADDRESS without revealing the address', async () => {
      const before = srv.seen.length;
      const events: CapabilityEvent[] = [];
      const err = await failure(
        guardedFetch(parseNetGrant([`http://api.test:${srv.port}`]), get(`http://api.test:${srv.port}/hello`), { limits: LIMITS, resolve: resolverTo('127.0.0.1'), onEvent: (e) => events.push(e) }),
      );
      expect(err.code).toBe('CAPABILITY_DENIED');
      expect(err.message).toContain('NET_PRIVATE_ADDRESS');
      expect(err.message).not.toContain('127.0.0.1');
      expect(srv.seen.length).toBe(before);
      expect(events).toEqual([{ kind: 'net', op: 'GET', target: `http://api.test:${srv.port}`, allowed: false, code: 'NET_PRIVATE_ADDRESS' }]);
    });

    it('succeeds when a rule grants that address, pinned to it, with the hostname as Host', async () => {
      const g = parseNetGrant([`http://api.test:${srv.port}`, `http://127.0.0.1:${srv.port}`]);
      const res = await guardedFetch(g, get(`http://api.test:${srv.port}/echo`), { limits: LIMITS, resolve: resolverTo('127.0.0.1') });
      expect(JSON.parse(Buffer.from(res.body).toString())).toMatchObject({ host: `api.test:${srv.port}` });
    });

    it('is refused when the resolver mixes public and private answers', async () => {
      const g = parseNetGrant([`http://api.test:${srv.port}`]);
      const err = await failure(guardedFetch(g, get(`http://api.test:${srv.port}/hello`), { limits: LIMITS, resolve: resolverTo('93.184.216.34', '127.0.0.1') }));
      expect(err.code).toBe('CAPABILITY_DENIED');
      expect(err.message).toContain('NET_PRIVATE_ADDRESS');
    });

    it.each([['::ffff:127.0.0.1'], ['::1'], ['169.254.169.254'], ['10.0.0.1']])('is refused for the answer %s', async (ip) => {
      const g = parseNetGrant([`http://api.test:${srv.port}`]);
      expect((await failure(guardedFetch(g, get(`http://api.test:${srv.port}/`), { limits: LIMITS, resolve: resolverTo(ip) }))).code).toBe('CAPABILITY_DENIED');
    });

    it('fails (not denies) when the resolver finds nothing', async () => {
      const g = parseNetGrant([`http://api.test:${srv.port}`]);
      expect((await failure(guardedFetch(g, get(`http://api.test:${srv.port}/`), { limits: LIMITS, resolve: resolverTo() }))).code).toBe('CAPABILITY_FAILED');
    });
  });

  describe('limits', () => {
    it('fails a response over maxResponseBytes (declared length)', async () => {
      const err = await failure(guardedFetch(grant(), get(`${base()}/big`), { limits: LIMITS }));
      expect(err).toEqual({ code: 'CAPABILITY_FAILED', message: 'response body exceeds 4096 bytes' });
    });

    it('fails a streamed response over maxResponseBytes', async () => {
      const err = await failure(guardedFetch(grant(), get(`${base()}/big-chunked`), { limits: LIMITS }));
      expect(err).toEqual({ code: 'CAPABILITY_FAILED', message: 'response body exceeds 4096 bytes' });
    });

    it('fails a request body over maxRequestBytes before connecting', async () => {
      const before = srv.seen.length;
      const err = await failure(guardedFetch(grant(), get(`${base()}/echo`, { method: 'POST', body: new Uint8Array(2000) }), { limits: LIMITS }));
      expect(err).toEqual({ code: 'CAPABILITY_FAILED', message: 'request body exceeds 1024 bytes' });
      expect(srv.seen.length).toBe(before);
    });

    it('times out', async () => {
      // The server never answers, so only the fetch timeout can end this, however slow the machine.
      const err = await failure(guardedFetch(grant(), get(`${base()}/hang`), { limits: { ...LIMITS, fetchTimeoutMs: 200 } }));
      expect(err).toEqual({ code: 'CAPABILITY_FAILED', message: 'fetch timed out after 200 ms' });
    });

    it('stops when the signal aborts, and closes the connection', async () => {
      const ac = new AbortController();
      const arrived = nextHang();
      const call = failure(guardedFetch(grant(), get(`${base()}/hang`), { limits: LIMITS, signal: ac.signal }));
      const { closed } = await arrived; // the request is at the server, which will never answer it
      ac.abort();
      expect((await call).code).toBe('CANCELLED');
      await closed; // the server sees the request go: it was stopped, not left behind
    });

    it('fails a response whose connection drops mid-body, never returning it cut short', async () => {
      const err = await failure(guardedFetch(grant(), get(`${base()}/half`), { limits: LIMITS }));
      expect(err.code).toBe('CAPABILITY_FAILED');
      expect(err.message).toMatch(/^fetch failed/);
    });

    it('stops when the signal aborts while the body arrives, and closes the connection', async () => {
      const ac = new AbortController();
      const arrived = nextHang();
      const call = failure(guardedFetch(grant(), get(`${base()}/half-hang`), { limits: LIMITS, signal: ac.signal }));
      const { closed } = await arrived; // the head and part of the body are sent; the rest never comes
      ac.abort();
      expect((await call).code).toBe('CANCELLED');
      await closed;
    });

    it('times out while the body arrives', async () => {
      const arrived = nextHang();
      const call = failure(guardedFetch(grant(), get(`${base()}/half-hang`), { limits: { ...LIMITS, fetchTimeoutMs: 200 } }));
      const { closed } = await arrived;
      expect(await call).toEqual({ code: 'CAPABILITY_FAILED', message: 'fetch timed out after 200 ms' });
      await closed;
    });

    it('stops while DNS is pending when the signal aborts', async () => {
      const ac = new AbortController();
      let lookedUp!: () => void;
      const asked = new Promise<void>((r) => (lookedUp = r));
      const never: Resolver = () => {
        lookedUp();
        return new Promise(() => {});
      };
      const g = parseNetGrant([`http://api.test:${srv.port}`]);
      const opts: GuardedFetchOptions = { limits: LIMITS, signal: ac.signal, resolve: never };
      const call = failure(guardedFetch(g, get(`http://api.test:${srv.port}/`), opts));
      await asked; // the lookup is pending and never ends
      ac.abort();
      expect((await call).code).toBe('CANCELLED');
    });
  });

  describe('when the method is forbidden', () => {
    it.each([['CONNECT'], ['trace'], ['bad method']])('refuses %s', async (method) => {
      expect((await failure(guardedFetch(grant(), get(`${base()}/echo`, { method }), { limits: LIMITS }))).code).toBe('CAPABILITY_FAILED');
    });
  });
});
