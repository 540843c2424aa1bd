import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopback } from '../helpers/loopback.ts';
import type { Loopback } from '../helpers/loopback.ts';
import { grantOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// A tool-supplied value that changes between two reads (a getter, a Proxy) could show the sandbox one
// value and send another. The bootstrap's fetch reads each one once and copies it; the host checks what
// was sent. Against a real server on 127.0.0.1, through the real sandbox.
let hits: { url: string; method: string; body: string; header: string | undefined }[] = [];
let server: Loopback;
let port = 0;
const sandbox = newSandbox();

beforeAll(async () => {
  server = await startLoopback((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      hits.push({ url: req.url ?? '', method: req.method ?? '', body, header: req.headers['x-probe'] as string | undefined });
      res.end('ok');
    });
  });
  port = server.port;
});
afterAll(async () => {
  await sandbox.close();
  await server.close();
});

const tool = inlinePackage(`export default {
  requestLike: async ({ good, bad }) => {
    let reads = 0;
    const input = { get url() { reads++; return reads === 1 ? good : bad; } };
    try { const r = await fetch(input); return { status: r.status, reads }; } catch (e) { return { code: e.code, reads }; }
  },
  initGetters: async ({ url }) => {
    const reads = { method: 0, headers: 0, body: 0, pair: 0 };
    const pair = new Proxy(['x-probe', 'first'], { get(t, k, r) { if (k === '1') { reads.pair++; return reads.pair === 1 ? 'first' : 'second'; } return Reflect.get(t, k, r); } });
    const init = {
      get method() { reads.method++; return reads.method === 1 ? 'POST' : 'DELETE'; },
      get headers() { reads.headers++; return reads.headers === 1 ? [pair] : []; },
      get body() { reads.body++; return reads.body === 1 ? 'first' : 'second'; },
    };
    const r = await fetch(url, init);
    return { status: r.status, reads };
  },
}`);

describe('fetch given values that change between reads', () => {
  it("reads a Request-like argument's url once: a granted URL first and an ungranted one second reach only the first", async () => {
    hits = [];
    const grant = await grantOf([`http://127.0.0.1:${port}`]);
    const good = `http://127.0.0.1:${port}/granted`;
    const bad = `http://127.0.0.1:${port + 1}/not-granted`;
    const { value } = await sandbox.run(tool, 'requestLike', { good, bad }, grant, limits());
    expect(value).toEqual({ status: 200, reads: 1 });
    expect(hits.map((h) => h.url)).toEqual(['/granted']);
  });

  it('reads each member of init, and each header, once: what is sent is what was read', async () => {
    hits = [];
    const grant = await grantOf([`http://127.0.0.1:${port}`]);
    const { value } = await sandbox.run(tool, 'initGetters', { url: `http://127.0.0.1:${port}/init` }, grant, limits());
    expect(value).toEqual({ status: 200, reads: { method: 1, headers: 1, body: 1, pair: 1 } });
    expect(hits).toEqual([{ url: '/init', method: 'POST', body: 'first', header: 'first' }]);
  });
});
