import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopback } from '../helpers/loopback.ts';
import type { Loopback } from '../helpers/loopback.ts';
import type { CapabilityEvent } from '../../runtime/index.ts';
import { codeOf, grantOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// A hostile tool tries every way around its network grant, through the real sandbox, against real
// servers on 127.0.0.1. `api.test` is a public-looking name whose DNS answer the test controls.
let hits: string[] = [];
let server: Loopback;
let port = 0;
const publicIp = '203.0.113.10';

function handler(req: IncomingMessage, res: ServerResponse): void {
  hits.push(req.url ?? '');
  if (req.url === '/redirect-out') {
    res.writeHead(302, { location: `http://127.0.0.2:${port}/secret` });
    res.end();
    return;
  }
  if (req.url === '/tiny') {
    res.end('hi');
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ path: req.url }));
}

const sandbox = newSandbox({
  resolve: async (hostname) => {
    if (hostname === 'api.test') return [{ address: publicIp, family: 4 }];
    if (hostname === 'rebind.test') return [{ address: '127.0.0.1', family: 4 }];
    if (hostname === 'mixed.test') return [{ address: '203.0.113.9', family: 4 }, { address: '10.0.0.1', family: 4 }];
    throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  },
});

beforeAll(async () => {
  server = await startLoopback(handler);
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
      return { status: r.status, body: await r.text() };
    } catch (e) {
      return { code: e.code, message: String(e.message), stack: String(e.stack) };
    }
  },
  twoFaced: async ({ good, bad }) => {
    let n = 0;
    const url = { toString() { return n++ === 0 ? good : bad; } };
    try { const r = await fetch(url); return { status: r.status, body: await r.text() }; } catch (e) { return { code: e.code }; }
  },
  bytes: async ({ url }) => {
    const r = await fetch(url);
    const buf = await r.arrayBuffer();
    return { byteLength: buf.byteLength };
  },
  uncaught: async ({ url }) => { await fetch(url); return 'unreachable'; },
}`);

describe('fetch from inside the sandbox', () => {
  it('reaches a granted server', async () => {
    hits = [];
    const grant = await grantOf([`http://127.0.0.1:${port}`]);
    const { value } = await sandbox.run(tool, 'get', { url: `http://127.0.0.1:${port}/ok` }, grant, limits());
    expect(value).toEqual({ status: 200, body: '{"path":"/ok"}' });
    expect(hits).toEqual(['/ok']);
  });

  it.each([
    ['an ungranted port', (p: number) => `http://127.0.0.1:${p + 1}/x`],
    ['the decimal alias 2130706433', (p: number) => `http://2130706433:${p}/x`],
    ['the hex alias 0x7f.1', (p: number) => `http://0x7f.1:${p}/x`],
    ['an IPv4-mapped IPv6 literal', (p: number) => `http://[::ffff:127.0.0.1]:${p}/x`],
    ['credentials smuggling the host', (p: number) => `http://api.test@127.0.0.1:${p}/x`],
    ['a name that resolves to loopback (rebinding)', (p: number) => `http://rebind.test:${p}/x`],
    ['a name with a private address among its answers', (p: number) => `http://mixed.test:${p}/x`],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/'],
  ])('refuses %s, and the request never leaves the host', async (_name, url) => {
    hits = [];
    const grant = await grantOf(['http://api.test', 'http://rebind.test', 'http://mixed.test', `http://api.test:${port}`]);
    const events: CapabilityEvent[] = [];
    const { value } = await sandbox.run(tool, 'get', { url: url(port) }, grant, limits(), { onCapability: (e) => events.push(e) });
    expect(value).toMatchObject({ code: 'CAPABILITY_DENIED' });
    expect(hits).toEqual([]);
    expect(events.at(-1)).toMatchObject({ kind: 'net', allowed: false });
  });

  it('refuses a redirect from a granted server to an ungranted host', async () => {
    hits = [];
    const grant = await grantOf([`http://127.0.0.1:${port}`]);
    const { value } = await sandbox.run(tool, 'get', { url: `http://127.0.0.1:${port}/redirect-out` }, grant, limits());
    expect(value).toMatchObject({ code: 'CAPABILITY_DENIED' });
    expect(hits).toEqual(['/redirect-out']);
  });

  it('reads a URL object once: a value that changes on its second coercion cannot pass the check with one URL and connect to another', async () => {
    hits = [];
    const grant = await grantOf([`http://127.0.0.1:${port}`]);
    const { value } = await sandbox.run(tool, 'twoFaced', { good: `http://127.0.0.1:${port}/good`, bad: 'http://169.254.169.254/' }, grant, limits());
    expect(value).toEqual({ status: 200, body: '{"path":"/good"}' });
    expect(hits).toEqual(['/good']);
  });

  it('gives the tool errors without host stacks or paths', async () => {
    const grant = await grantOf([]);
    const { value } = await sandbox.run(tool, 'get', { url: 'https://not-granted.example/' }, grant, limits());
    const v = value as { message: string; stack: string };
    expect(v.message).toMatch(/not-granted\.example/);
    expect(`${v.message}\n${v.stack}`).not.toMatch(/\/work\/|node_modules|node:internal|runtime\/|\.ts:/);
  });

  it('returns a small body as an exactly sized buffer, never a view on a shared pool slab', async () => {
    const grant = await grantOf([`http://127.0.0.1:${port}`]);
    const { value } = await sandbox.run(tool, 'bytes', { url: `http://127.0.0.1:${port}/tiny` }, grant, limits());
    expect(value).toEqual({ byteLength: 2 });
  });

  it('reports an uncaught denial as CAPABILITY_DENIED, and keeps serving', async () => {
    const grant = await grantOf([]);
    for (let i = 0; i < 20; i++) {
      expect(await codeOf(sandbox.run(tool, 'uncaught', { url: 'https://evil.example/' }, grant, limits()))).toBe('CAPABILITY_DENIED');
    }
    const ok = await grantOf([`http://127.0.0.1:${port}`]);
    await expect(sandbox.run(tool, 'get', { url: `http://127.0.0.1:${port}/after` }, ok, limits())).resolves.toMatchObject({ value: { status: 200 } });
  });
});
