/**
 * @modelcontextprotocol/server-everything, wrapped from the registry (pinned by
 * test/fixtures/wrap/server-everything.lock.json), as far as its features can be served: its tools that
 * need only computation and timers, and its prompts and resource templates, answer as the same server run natively; what cannot be served is
 * reported at wrap time (its HTTP transports' modules, zlib);
 * its environment is only what the wrap configuration gives; a fetch the grant does not cover is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { HostHandle } from '../helpers/host.ts';
import { serveWrapped, startNative, texts, wrapAndInstall } from '../host/wrap/e2e-harness.ts';
import type { NativeServer, Wrapped } from '../host/wrap/e2e-harness.ts';

const NS = 'wrapped-server-everything__';


/**
 * The server's dynamic resources say when they were made ("created at 4:05:34 PM", the local clock to the
 * second); the two servers answer a moment apart, so the clock reading is masked on both sides and
 * everything else must match.
 */
const CLOCK = /\b\d{1,2}:\d{2}:\d{2}(?:\s?[AP]M)?/g;
const untimed = (v: unknown): unknown => JSON.parse(JSON.stringify(v).replace(CLOCK, '<clock>'));
describe('wrapped @modelcontextprotocol/server-everything', () => {
  let w: Wrapped;
  let host: HostHandle;
  let native: NativeServer;
  beforeAll(async () => {
    w = await wrapAndInstall({ spec: '@modelcontextprotocol/server-everything@2026.8.31', lock: 'server-everything', wrapArgs: ['--env', 'GREETING=hello'] }, 'everything');
    host = await serveWrapped(w);
    native = await startNative(w.mainFile, ['stdio']);
  });
  afterAll(async () => {
    await host?.close();
    await native?.close();
  });

  it('reports what cannot be served at wrap time', () => {
    const modules = (w.report.unsupportedModules as Array<{ module: string }>).map((m) => m.module);
    expect(modules).toEqual(expect.arrayContaining(['node:http', 'node:net', 'node:zlib']));
  });

  it('serves the same tools as the native server', async () => {
    const ours = (await host.client.listTools()).tools.map((t) => t.name.slice(NS.length)).sort();
    const theirs = (await native.client.listTools()).tools.map((t) => t.name).sort();
    expect(ours).toEqual(theirs);
  });

  it.each([
    ['echo', { message: 'hi there' }],
    ['get-sum', { a: 2, b: 40 }],
    ['get-tiny-image', {}],
    ['get-annotated-message', { messageType: 'error', includeImage: true }],
    ['get-structured-content', { location: 'New York' }],
    ['trigger-long-running-operation', { duration: 0.2, steps: 2 }],
  ] as Array<[string, Record<string, unknown>]>)('%s %j answers as the native server', async (tool, args) => {
    const ours = (await host.client.callTool({ name: NS + tool, arguments: args })) as CallToolResult;
    const theirs = (await native.client.callTool({ name: tool, arguments: args })) as CallToolResult;
    expect({ isError: ours.isError ?? false, content: ours.content }).toEqual({ isError: theirs.isError ?? false, content: theirs.content });
    expect(ours.structuredContent).toEqual(theirs.structuredContent);
  });

  it('serves the same prompts, each produced by the server in the sandbox', async () => {
    const ours = (await host.client.listPrompts()).prompts.map((p) => p.name.slice(NS.length)).sort();
    const theirs = (await native.client.listPrompts()).prompts.map((p) => p.name).sort();
    expect(ours).toEqual(theirs);
  });

  it.each([
    ['simple-prompt', {}],
    ['args-prompt', { city: 'Paris', state: 'IDF' }],
    ['resource-prompt', { resourceType: 'Text', resourceId: '1' }],
  ] as Array<[string, Record<string, string>]>)('prompts/get %s %j answers as the native server', async (name, args) => {
    const ours = await host.client.getPrompt({ name: NS + name, arguments: args });
    const theirs = await native.client.getPrompt({ name, arguments: args });
    expect(untimed(ours.messages)).toEqual(untimed(theirs.messages));
  });

  it.each(['demo://resource/dynamic/text/1', 'demo://resource/dynamic/blob/2'])('resources/read %s (a template of the server, read by it in the sandbox) answers as the native server', async (uri) => {
    const templates = (await host.client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    const served = templates.find((t) => t.endsWith(uri.replace(/\/\d+$/, '/{resourceId}')));
    expect(served).toBeDefined();
    const ours = await host.client.readResource({ uri: (served as string).replace('{resourceId}', uri.slice(uri.lastIndexOf('/') + 1)) });
    const theirs = await native.client.readResource({ uri });
    const strip = (cs: Array<Record<string, unknown>>) => cs.map(({ uri: _u, ...rest }) => rest);
    expect(untimed(strip(ours.contents))).toEqual(untimed(strip(theirs.contents)));
  });

  it('shows the server only the environment the wrap configuration gives', async () => {
    const r = (await host.client.callTool({ name: `${NS}get-env`, arguments: {} })) as CallToolResult;
    expect(JSON.parse(texts(r)[0] as string)).toEqual({ GREETING: 'hello' });
  });

  it('refuses what the grant does not cover: gzip-file-as-resource fetches its input, a data: URL the net grant refuses', async () => {
    const r = (await host.client.callTool({ name: `${NS}gzip-file-as-resource`, arguments: { name: 'x.gz', data: 'data:text/plain;base64,aGVsbG8=', outputType: 'resource' } })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(texts(r).join(' ')).toMatch(/denied \(NET_BAD_URL\)/);
    // And the server keeps serving.
    expect(texts((await host.client.callTool({ name: `${NS}get-sum`, arguments: { a: 1, b: 1 } })) as CallToolResult).join(' ')).toContain('2');
  });
});
