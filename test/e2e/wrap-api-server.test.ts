/**
 * An API server that needs a token: @modelcontextprotocol/server-gitlab, wrapped from the registry
 * (pinned by test/fixtures/wrap/server-gitlab.lock.json), pointed at a loopback fake of the GitLab API
 * (GITLAB_API_URL) with a net grant for that fake only, and its token a host-bound secret (wrap --secret:
 * the server's variable holds a placeholder, the host sends the value only in the bound header to the
 * fake; the wrapped package and the isolate never hold it). Compared with the same server run natively
 * against the same fake.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homeLayout } from '../../host/home/home.ts';
import { ANY_PACKAGE, storeSecret } from '../../host/secrets/store.ts';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { HostHandle } from '../helpers/host.ts';
import { startLoopback } from '../helpers/loopback.ts';
import type { Loopback } from '../helpers/loopback.ts';
import { serveWrapped, startNative, texts, wrapAndInstall } from '../host/wrap/e2e-harness.ts';
import type { NativeServer, Wrapped } from '../host/wrap/e2e-harness.ts';

const TOKEN = 'glpat-test-token-1234';
const NS = 'wrapped-server-gitlab__';
const REPO = {
  id: 7, name: 'demo', path_with_namespace: 'acme/demo', visibility: 'public', web_url: 'https://gitlab.example/acme/demo', description: null,
  ssh_url_to_repo: 'git@gitlab.example:acme/demo.git', http_url_to_repo: 'https://gitlab.example/acme/demo.git', created_at: '2026-01-01T00:00:00Z',
  last_activity_at: '2026-01-02T00:00:00Z', default_branch: 'main',
};
const FILE = {
  file_name: 'README.md', file_path: 'README.md', size: 12, encoding: 'base64', content: Buffer.from('# demo\nhello').toString('base64'),
  content_sha256: 'abc', ref: 'main', blob_id: 'b1', last_commit_id: 'c1',
};

describe('wrapped @modelcontextprotocol/server-gitlab against a loopback fake', () => {
  let fake: Loopback;
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  let w: Wrapped;
  let host: HostHandle;
  let native: NativeServer;
  beforeAll(async () => {
    fake = await startLoopback((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      const url = new URL(req.url ?? '/', 'http://x');
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => { res.writeHead(status, { 'content-type': 'application/json', ...headers }); res.end(JSON.stringify(body)); };
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(401, { message: '401 Unauthorized' });
      if (url.pathname === '/api/v4/projects') return json(200, [REPO], { 'X-Total': '1' });
      if (url.pathname === '/api/v4/projects/acme%2Fdemo/repository/files/README.md') return json(200, FILE);
      return json(404, { message: '404 Not Found' });
    });
    const base = fake.origin;
    w = await wrapAndInstall({
      spec: '@modelcontextprotocol/server-gitlab@2025.4.25', lock: 'server-gitlab',
      wrapArgs: ['--net', base, '--env', `GITLAB_API_URL=${base}/api/v4`, '--secret', 'GITLAB_PERSONAL_ACCESS_TOKEN=Authorization:Bearer {}'],
    }, 'gitlab');
    writeFileSync(join(w.home, 'config.json'), JSON.stringify({ secrets: { keychain: false } }), { mode: 0o600 });
    await storeSecret(homeLayout(w.home), ANY_PACKAGE, 'GITLAB_PERSONAL_ACCESS_TOKEN', TOKEN, null);
    host = await serveWrapped(w);
    native = await startNative(w.mainFile, [], { GITLAB_API_URL: `${base}/api/v4`, GITLAB_PERSONAL_ACCESS_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await host?.close();
    await native?.close();
    await fake?.close();
  });

  it('keeps the token out of the wrapped package: the server\'s variable holds the placeholder, the manifest binds it to the fake', () => {
    const pj = readFileSync(join(w.work, 'pkg', 'package.json'), 'utf8');
    expect(pj).not.toContain(TOKEN);
    expect(readFileSync(join(w.work, 'pkg', 'server.js'), 'utf8')).not.toContain(TOKEN);
    const m = (JSON.parse(pj) as { mcpWarden: { server: { env: Record<string, string> }; capabilities: { secrets: Record<string, unknown> } } }).mcpWarden;
    expect(m.server.env.GITLAB_PERSONAL_ACCESS_TOKEN).toBe('{{secret:GITLAB_PERSONAL_ACCESS_TOKEN}}');
    expect(m.capabilities.secrets.GITLAB_PERSONAL_ACCESS_TOKEN).toMatchObject({ header: { name: 'Authorization', format: 'Bearer {}' } });
  });

  it('serves the same tools as the native server', async () => {
    const ours = (await host.client.listTools()).tools.map((t) => t.name.slice(NS.length)).sort();
    const theirs = (await native.client.listTools()).tools.map((t) => t.name).sort();
    expect(ours).toEqual(theirs);
  });

  it.each([
    ['search_repositories', { search: 'demo' }],
    ['get_file_contents', { project_id: 'acme/demo', file_path: 'README.md' }],
  ] as Array<[string, Record<string, unknown>]>)('%s %j answers as the native server, with the token sent', async (tool, args) => {
    const before = seen.length;
    const ours = (await host.client.callTool({ name: NS + tool, arguments: args })) as CallToolResult;
    const theirs = (await native.client.callTool({ name: tool, arguments: args })) as CallToolResult;
    expect({ isError: ours.isError ?? false, text: texts(ours) }).toEqual({ isError: theirs.isError ?? false, text: texts(theirs) });
    expect(seen.length).toBe(before + 2);
    for (const s of seen.slice(before)) expect(s.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('reports an API error as the native server does (which answers a JSON-RPC error: ours is a tool error with its message)', async () => {
    const args = { project_id: 'acme/demo', file_path: 'MISSING.md' };
    const ours = (await host.client.callTool({ name: `${NS}get_file_contents`, arguments: args })) as CallToolResult;
    const theirs = await native.client.callTool({ name: 'get_file_contents', arguments: args }).then(() => 'no error', (e: Error) => e.message);
    expect(ours.isError).toBe(true);
    expect(theirs).toContain('GitLab API error: Not Found');
    expect(texts(ours)).toEqual(['GitLab API error: Not Found']);
  });
});
