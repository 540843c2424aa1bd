import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoopback } from '../helpers/loopback.ts';
import type { Loopback } from '../helpers/loopback.ts';
import { DEFAULT_DLP_POLICY } from '../../runtime/index.ts';
import type { CapabilityEvent, DlpPolicy, Grant } from '../../runtime/index.ts';
import { grantOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// A tool that holds a secret (read from a file, returned by an API) sends it on in a request body or a
// URL. The host scans what a fetch sends before it leaves (runtime/io/fetch.ts → runtime/dlp): `redact`
// rewrites it, `block` refuses the fetch with DATA_BLOCKED inside the tool, `log` only audits. Through
// the real sandbox, against a real server on 127.0.0.1, which records what actually arrived.
const TOKEN = `ghp_${'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A'}`;
let hits: { url: string; body: string }[] = [];
let server: Loopback;
let port = 0;
const sandbox = newSandbox();

beforeAll(async () => {
  server = await startLoopback((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      hits.push({ url: req.url ?? '', body });
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
  post: async ({ url, body }) => {
    try { const r = await fetch(url, { method: 'POST', body }); return { status: r.status }; }
    catch (e) { return { code: e.code, message: e.message }; }
  },
  postUncaught: async ({ url, body }) => (await fetch(url, { method: 'POST', body })).status,
}`);

async function grantWith(dlp?: Partial<DlpPolicy>): Promise<Grant> {
  const g = await grantOf([`http://127.0.0.1:${port}`]);
  return dlp === undefined ? g : { ...g, dlp: { ...DEFAULT_DLP_POLICY, ...dlp } };
}

async function post(grant: Grant, path: string, body: string): Promise<{ value: unknown; events: CapabilityEvent[] }> {
  hits = [];
  const events: CapabilityEvent[] = [];
  const { value } = await sandbox.run(tool, 'post', { url: `http://127.0.0.1:${port}${path}`, body }, grant, limits(), { onCapability: (e) => events.push(e) });
  return { value, events };
}

describe('a fetch that would send a token', () => {
  it('by default has the token redacted in its body and URL before it leaves, and says so in a capability event', async () => {
    const { value, events } = await post(await grantWith(), `/a?token=${TOKEN}`, `{"token":"${TOKEN}","card":"4111 1111 1111 1111"}`);
    expect(value).toEqual({ status: 200 });
    expect(hits).toEqual([{ url: '/a?token=[REDACTED:github-token]', body: '{"token":"[REDACTED:github-token]","card":"[REDACTED:card]"}' }]);
    const dlp = events.flatMap((e) => e.dlp ?? []);
    expect(dlp).toEqual([
      { detector: 'github-token', action: 'redact', where: 'fetch-url', count: 1 },
      { detector: 'github-token', action: 'redact', where: 'fetch-body', count: 1 },
      { detector: 'card', action: 'redact', where: 'fetch-body', count: 1 },
    ]);
    expect(JSON.stringify(events)).not.toContain(TOKEN);
  });

  it('with block is refused inside the tool with DATA_BLOCKED, and nothing reaches the server', async () => {
    const { value, events } = await post(await grantWith({ 'github-token': 'block' }), '/b', `token ${TOKEN}`);
    expect(value).toMatchObject({ code: 'DATA_BLOCKED' });
    expect((value as { message: string }).message).toContain('github-token');
    expect((value as { message: string }).message).not.toContain(TOKEN);
    expect(hits).toEqual([]);
    expect(events.filter((e) => e.dlp !== undefined)).toEqual([{ kind: 'net', op: 'POST', target: `http://127.0.0.1:${port}`, allowed: true, dlp: [{ detector: 'github-token', action: 'block', where: 'fetch-body', count: 1 }] }]);
  });

  it('with block, left uncaught, fails the call as the tool\'s throw (not as a capability denial), naming the detector', async () => {
    hits = [];
    const grant = await grantWith({ 'github-token': 'block' });
    const e = await sandbox.run(tool, 'postUncaught', { url: `http://127.0.0.1:${port}/e`, body: TOKEN }, grant, limits()).catch((x: unknown) => x as { code: string; message: string });
    expect((e as { code: string }).code).toBe('TOOL_THREW');
    expect((e as { message: string }).message).toContain('DLP policy blocks (github-token)');
    expect((e as { message: string }).message).not.toContain(TOKEN);
    expect(hits).toEqual([]);
  });

  it('with log is sent unchanged and reported', async () => {
    const { value, events } = await post(await grantWith({ 'github-token': 'log' }), '/c', `token ${TOKEN}`);
    expect(value).toEqual({ status: 200 });
    expect(hits).toEqual([{ url: '/c', body: `token ${TOKEN}` }]);
    expect(events.flatMap((e) => e.dlp ?? [])).toEqual([{ detector: 'github-token', action: 'log', where: 'fetch-body', count: 1 }]);
  });

  it('with nothing sensitive is sent byte for byte, with no DLP event', async () => {
    const { value, events } = await post(await grantWith(), '/d', 'plain text, order 1234');
    expect(value).toEqual({ status: 200 });
    expect(hits).toEqual([{ url: '/d', body: 'plain text, order 1234' }]);
    expect(events.some((e) => e.dlp !== undefined)).toBe(false);
  });
});
