import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopback } from '../helpers/loopback.ts';
import type { Loopback } from '../helpers/loopback.ts';
import type { CapabilityEvent } from '../../runtime/index.ts';
import { grantOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// A tool holding a path- and method-restricted grant tries to reach other paths of the same server:
// through the real sandbox, against a real server on 127.0.0.1 that records every request reaching it.
let hits: string[] = [];
let server: Loopback;
let port = 0;

function handler(req: IncomingMessage, res: ServerResponse): void {
  hits.push(`${req.method ?? ''} ${req.url ?? ''}`);
  const url = req.url ?? '';
  if (url === '/repos/acme/redirect-out') {
    res.writeHead(302, { location: '/repos/other/secret' });
    res.end();
    return;
  }
  if (url === '/repos/acme/redirect-dots') {
    res.writeHead(302, { location: '/repos/acme/%2e%2e/other/secret' });
    res.end();
    return;
  }
  if (url === '/repos/acme/redirect-in') {
    res.writeHead(302, { location: '/repos/acme/ok' });
    res.end();
    return;
  }
  if (url === '/repos/acme/see-other') {
    res.writeHead(303, { location: '/repos/acme/ok' });
    res.end();
    return;
  }
  res.end(`reached ${url}`);
}

const sandbox = newSandbox();

beforeAll(async () => {
  server = await startLoopback(handler);
  port = server.port;
});
afterAll(async () => {
  await sandbox.close();
  await server.close();
});

const tool = inlinePackage(`export default {
  call: async ({ url, method }) => {
    try {
      const r = await fetch(url, { method });
      return { status: r.status, body: await r.text(), url: r.url };
    } catch (e) {
      return { code: e.code, message: String(e.message) };
    }
  },
}`);

const base = (): string => `http://127.0.0.1:${port}`;
const rule = (): string => `GET,HEAD http://127.0.0.1:${port}/repos/acme/`;

async function call(rules: string[], url: string, method = 'GET'): Promise<{ value: Record<string, unknown>; events: CapabilityEvent[] }> {
  const events: CapabilityEvent[] = [];
  const { value } = await sandbox.run(tool, 'call', { url, method }, await grantOf(rules), limits({ wallMs: 20_000 }), { onCapability: (e) => events.push(e) });
  return { value: value as Record<string, unknown>, events };
}

describe('a path- and method-restricted network grant, through the real sandbox', () => {
  it('reaches a path under the granted prefix', async () => {
    hits = [];
    const { value } = await call([rule()], `${base()}/repos/acme/ok`);
    expect(value).toMatchObject({ status: 200, body: 'reached /repos/acme/ok' });
    expect(hits).toEqual(['GET /repos/acme/ok']);
  });

  it.each([
    ['another path', '/repos/other/secret', 'GET', 'NET_PATH_NOT_GRANTED'],
    ['a dot segment', '/repos/acme/../other/secret', 'GET', 'NET_PATH_NOT_GRANTED'],
    ['an encoded dot segment', '/repos/acme/%2e%2e/other/secret', 'GET', 'NET_PATH_NOT_GRANTED'],
    ['an encoded slash', '/repos/acme/..%2Fother%2Fsecret', 'GET', 'NET_PATH_NOT_GRANTED'],
    ['an encoded backslash', '/repos/acme/..%5Cother', 'GET', 'NET_PATH_NOT_GRANTED'],
    ['a Tomcat path parameter', '/repos/acme/..;/other/secret', 'GET', 'NET_PATH_NOT_GRANTED'],
    ['another case', '/REPOS/acme/x', 'GET', 'NET_PATH_NOT_GRANTED'],
    ['a string-prefix sibling', '/repos/acmex', 'GET', 'NET_PATH_NOT_GRANTED'],
    ['another method', '/repos/acme/ok', 'DELETE', 'NET_METHOD_NOT_GRANTED'],
  ])('refuses %s before anything reaches the server', async (_name, path, method, deny) => {
    hits = [];
    const { value, events } = await call([rule()], `${base()}${path}`, method);
    expect(value.code).toBe('CAPABILITY_DENIED');
    expect(value.message).toContain(`(${deny})`);
    expect(hits).toEqual([]);
    expect(events).toEqual([{ kind: 'net', op: method, target: base(), allowed: false, code: deny }]);
  });

  it('sends a double-slash path as the path it checked, so the server cannot read it another way', async () => {
    hits = [];
    const { value } = await call([rule()], `${base()}//repos//acme//ok`);
    expect(value).toMatchObject({ status: 200 });
    expect(hits).toEqual(['GET /repos/acme/ok']);
  });

  it('refuses a redirect from an allowed path to a disallowed one: the second hop never leaves the host', async () => {
    hits = [];
    const { value, events } = await call([rule()], `${base()}/repos/acme/redirect-out`);
    expect(value.code).toBe('CAPABILITY_DENIED');
    expect(value.message).toContain('(NET_PATH_NOT_GRANTED)');
    expect(hits).toEqual(['GET /repos/acme/redirect-out']);
    expect(events.map((e) => [e.allowed, e.code])).toEqual([
      [true, undefined],
      [false, 'NET_PATH_NOT_GRANTED'],
    ]);
  });

  it('refuses a redirect whose location climbs out with encoded dots', async () => {
    hits = [];
    const { value } = await call([rule()], `${base()}/repos/acme/redirect-dots`);
    expect(value.code).toBe('CAPABILITY_DENIED');
    expect(hits).toEqual(['GET /repos/acme/redirect-dots']);
  });

  it('follows a redirect that stays under the prefix', async () => {
    hits = [];
    const { value } = await call([rule()], `${base()}/repos/acme/redirect-in`);
    expect(value).toMatchObject({ status: 200, body: 'reached /repos/acme/ok' });
    expect(hits).toEqual(['GET /repos/acme/redirect-in', 'GET /repos/acme/ok']);
  });

  it('re-checks the method at each hop: a 303 turns a granted POST into a GET the rule does not grant', async () => {
    hits = [];
    const { value } = await call([`POST http://127.0.0.1:${port}/repos/acme/`], `${base()}/repos/acme/see-other`, 'POST');
    expect(value.code).toBe('CAPABILITY_DENIED');
    expect(value.message).toContain('(NET_METHOD_NOT_GRANTED)');
    expect(hits).toEqual(['POST /repos/acme/see-other']);
  });
});
