import type { IncomingMessage, RequestListener } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLoopback } from '../helpers/loopback.ts';
import type { Loopback } from '../helpers/loopback.ts';
import { parseNetRule, parseSecretBinding } from '../../runtime/index.ts';
import type { CapabilityEvent, Grant, GrantedSecret, LogEvent } from '../../runtime/index.ts';
import { grantOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// A tool that is given a credential to call an API tries to learn it: it reads back what an echoing
// server returns (body, headers, the final URL), sends the placeholder to another host, has a redirect
// carry it elsewhere, and reads the error messages. The secret lives in the host process only (the
// grant), the host substitutes it in the bound place toward the bound server, and every value the
// isolate receives has it redacted. Through the real sandbox, against real servers on 127.0.0.1.
const VALUE = 'zq8-Vt3pL0w-secret-9Kx2';
const BASIC_B64 = Buffer.from(`bot:${VALUE}`).toString('base64');
const FORMS = [VALUE, encodeURIComponent(VALUE), Buffer.from(VALUE).toString('base64'), BASIC_B64];

interface Hit {
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
}
let hitsA: Hit[] = [];
let hitsB: Hit[] = [];
let serverA: Loopback;
let serverB: Loopback;
let portA = 0;
let portB = 0;
const sandbox = newSandbox();

/** Echoes everything it received, in its body and in response headers; can redirect. */
function echo(hits: () => Hit[]): RequestListener {
  return (req, res) => {
    req.resume();
    req.on('end', () => {
      hits().push({ url: req.url ?? '', headers: req.headers });
      const u = new URL(req.url ?? '/', 'http://x');
      const to = u.searchParams.get('to');
      if (u.pathname === '/redirect' && to !== null) {
        res.writeHead(302, { location: to });
        res.end();
        return;
      }
      if (u.pathname === '/redirect-echo') {
        // A hostile (or careless) server puts what it received into the Location toward another host.
        res.writeHead(302, { location: `http://127.0.0.1:${portB}/collect?k=${encodeURIComponent(String(req.headers['x-api-key']))}` });
        res.end();
        return;
      }
      res.writeHead(200, { 'x-echo-auth': String(req.headers.authorization ?? ''), 'x-echo-url': req.url ?? '', 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
  };
}

beforeAll(async () => {
  serverA = await startLoopback(echo(() => hitsA));
  serverB = await startLoopback(echo(() => hitsB));
  portA = serverA.port;
  portB = serverB.port;
});
afterAll(async () => {
  await sandbox.close();
  await serverA.close();
  await serverB.close();
});
beforeEach(() => {
  hitsA = [];
  hitsB = [];
});

const tool = inlinePackage(`export default {
  call: async ({ url, init }) => {
    try {
      const r = await fetch(url, init);
      const headers = [];
      for (const [k, v] of r.headers) headers.push([k, v]);
      return { status: r.status, url: r.url, redirected: r.redirected, headers, body: await r.text() };
    } catch (e) { return { code: e.code, message: e.message, string: String(e) }; }
  },
  uncaught: async ({ url, init }) => (await fetch(url, init)).status,
}`);

function secret(name: string, decl: Parameters<typeof parseSecretBinding>[1]): GrantedSecret {
  return { ...parseSecretBinding(name, decl), value: VALUE };
}

async function grant(): Promise<Grant> {
  const g = await grantOf([`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`]);
  const bound = [`http://127.0.0.1:${portA}`];
  return {
    ...g,
    secrets: {
      secrets: [
        secret('API_TOKEN', { hosts: bound, header: { name: 'Authorization', format: 'Bearer {}' } }),
        secret('API_KEY', { hosts: bound, query: 'key' }),
        secret('BASIC_PW', { hosts: bound, basic: { username: 'bot' } }),
        secret('X_KEY', { hosts: bound, header: { name: 'X-Api-Key' } }),
      ],
    },
  };
}

async function call(url: string, init: unknown, entry = 'call'): Promise<{ value: unknown; seen: string }> {
  const events: CapabilityEvent[] = [];
  const logs: LogEvent[] = [];
  const { value } = await sandbox.run(tool, entry, { url, init }, await grant(), limits(), { onCapability: (e) => events.push(e), onLog: (l) => logs.push(l) });
  // Everything the isolate handed back, and every event the host got: none may hold the secret.
  return { value, seen: JSON.stringify([value, events, logs]) };
}

function expectNoSecret(text: string): void {
  for (const form of FORMS) expect(text).not.toContain(form);
}

describe('a secret bound to a header', () => {
  it('arrives at the bound server in the bound header, formatted, and the echo the tool reads back is redacted', async () => {
    const { value, seen } = await call(`http://127.0.0.1:${portA}/echo`, { headers: { Authorization: '{{secret:API_TOKEN}}' } });
    expect(hitsA.map((h) => h.headers.authorization)).toEqual([`Bearer ${VALUE}`]);
    expect(value).toMatchObject({ status: 200 });
    expectNoSecret(seen);
    // The echoed header value (the formatted "Bearer …") is replaced whole.
    expect(seen).toContain('authorization\\":\\"[secret:');
  });

  it('toward a host it is not bound to is refused with SECRET_NOT_BOUND, and nothing is sent there', async () => {
    const { value, seen } = await call(`http://127.0.0.1:${portB}/echo`, { headers: { Authorization: '{{secret:API_TOKEN}}' } });
    expect(value).toMatchObject({ code: 'SECRET_NOT_BOUND' });
    expect(hitsB).toEqual([]);
    expectNoSecret(seen);
  });

  it('in another header than its own is refused with SECRET_NOT_BOUND', async () => {
    const { value } = await call(`http://127.0.0.1:${portA}/echo`, { headers: { 'X-Other': '{{secret:API_TOKEN}}' } });
    expect(value).toMatchObject({ code: 'SECRET_NOT_BOUND' });
    expect(hitsA).toEqual([]);
  });

  it('is dropped at a redirect to a host it is not bound to (the bound hop got it, the other did not)', async () => {
    const to = encodeURIComponent(`http://127.0.0.1:${portB}/landing`);
    const { value, seen } = await call(`http://127.0.0.1:${portA}/redirect?to=${to}`, { headers: { 'X-Api-Key': '{{secret:X_KEY}}' } });
    expect(value).toMatchObject({ status: 200, redirected: true });
    expect(hitsA.map((h) => h.headers['x-api-key'])).toEqual([VALUE]);
    expect(hitsB).toHaveLength(1);
    expect(hitsB[0]?.headers['x-api-key']).toBeUndefined();
    expectNoSecret(seen);
  });

  it('is refused (SECRET_NOT_BOUND) when a redirect would carry its value in the URL to a host it is not bound to', async () => {
    const { value, seen } = await call(`http://127.0.0.1:${portA}/redirect-echo`, { headers: { 'X-Api-Key': '{{secret:X_KEY}}' } });
    expect(value).toMatchObject({ code: 'SECRET_NOT_BOUND' });
    expect(hitsB).toEqual([]);
    expectNoSecret(seen);
  });
});

describe('a secret bound to a query parameter', () => {
  it('arrives in the bound parameter, and the final URL, echoed headers and body the tool reads are redacted', async () => {
    const { value, seen } = await call(`http://127.0.0.1:${portA}/echo?key={{secret:API_KEY}}&page=2`, {});
    expect(hitsA.map((h) => h.url)).toEqual([`/echo?key=${encodeURIComponent(VALUE)}&page=2`]);
    expect(value).toMatchObject({ status: 200 });
    // The tool's own URL comes back as it wrote it: with the placeholder, never the value.
    expect((value as { url: string }).url).toBe(`http://127.0.0.1:${portA}/echo?key={{secret:API_KEY}}&page=2`);
    expect(seen).toContain(`/echo?key=[secret:`);
    expectNoSecret(seen);
  });

  it('works as URLSearchParams encodes the placeholder', async () => {
    const { value } = await call(`http://127.0.0.1:${portA}/echo?${new URLSearchParams({ key: '{{secret:API_KEY}}' }).toString()}`, {});
    expect(value).toMatchObject({ status: 200 });
    expect(hitsA.map((h) => h.url)).toEqual([`/echo?key=${encodeURIComponent(VALUE)}`]);
  });

  it('in another parameter, in the path or in the body is refused with SECRET_NOT_BOUND', async () => {
    for (const [url, init] of [
      [`http://127.0.0.1:${portA}/echo?other={{secret:API_KEY}}`, {}],
      [`http://127.0.0.1:${portA}/{{secret:API_KEY}}`, {}],
      [`http://127.0.0.1:${portA}/echo`, { method: 'POST', body: 'token={{secret:API_KEY}}' }],
    ] as const) {
      const { value } = await call(url, init);
      expect(value).toMatchObject({ code: 'SECRET_NOT_BOUND' });
    }
    expect(hitsA).toEqual([]);
  });
});

describe('a secret bound to HTTP basic auth', () => {
  it('arrives as Authorization: Basic base64(user:secret), and the echo is redacted (both the header and its base64)', async () => {
    const { value, seen } = await call(`http://127.0.0.1:${portA}/echo`, { headers: { Authorization: '{{secret:BASIC_PW}}' } });
    expect(hitsA.map((h) => h.headers.authorization)).toEqual([`Basic ${BASIC_B64}`]);
    expect(value).toMatchObject({ status: 200 });
    expectNoSecret(seen);
  });
});

describe('a secret the package was not granted', () => {
  it('is SECRET_NOT_BOUND, naming the secret, not a silent drop', async () => {
    const { value } = await call(`http://127.0.0.1:${portA}/echo`, { headers: { Authorization: '{{secret:NOT_GIVEN}}' } });
    expect(value).toMatchObject({ code: 'SECRET_NOT_BOUND' });
    expect((value as { message: string }).message).toContain('NOT_GIVEN');
    expect(hitsA).toEqual([]);
  });

  it('left uncaught, ends the call with the tool\'s throw, whose message holds no secret', async () => {
    const err = await sandbox.run(tool, 'uncaught', { url: `http://127.0.0.1:${portB}/x`, init: { headers: { Authorization: '{{secret:API_TOKEN}}' } } }, await grant(), limits()).then(
      () => null,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(err?.code).toBe('TOOL_THREW');
    expect(err?.message).toContain('secret API_TOKEN is not bound to');
    expectNoSecret(JSON.stringify(err) + String(err?.message));
  });
});

describe('a rule with a path binds the secret to that path only', () => {
  it('is refused toward another path of the same host', async () => {
    const g = await grant();
    const narrow: Grant = { ...g, secrets: { secrets: [{ ...parseSecretBinding('API_TOKEN', { hosts: [`http://127.0.0.1:${portA}/api/`], header: { name: 'Authorization', format: 'Bearer {}' } }), value: VALUE }] } };
    expect(parseNetRule(`http://127.0.0.1:${portA}/api/`).path).toBe('/api');
    const { value } = await sandbox.run(tool, 'call', { url: `http://127.0.0.1:${portA}/other`, init: { headers: { Authorization: '{{secret:API_TOKEN}}' } } }, narrow, limits());
    expect(value).toMatchObject({ code: 'SECRET_NOT_BOUND' });
    const ok = await sandbox.run(tool, 'call', { url: `http://127.0.0.1:${portA}/api/x`, init: { headers: { Authorization: '{{secret:API_TOKEN}}' } } }, narrow, limits());
    expect(ok.value).toMatchObject({ status: 200 });
    expect(hitsA.map((h) => h.url)).toEqual(['/api/x']);
  });
});
