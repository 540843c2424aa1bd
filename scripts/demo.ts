/**
 * The end-to-end demo: starts the built host (`node dist/host/cli.js serve --dev …`) on the example
 * packages, drives it with the MCP SDK's Client over real stdio, and prints each call and its result.
 * A throwaway workspace directory and a local JSON API on 127.0.0.1 are the only things it grants.
 *
 * Run: npm run demo   (builds first)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

const root = join(import.meta.dirname, '..');
const color = process.stdout.isTTY ? (code: number, s: string) => `\x1b[${code}m${s}\x1b[0m` : (_c: number, s: string) => s;
const bold = (s: string) => color(1, s);
const dim = (s: string) => color(2, s);
const red = (s: string) => color(31, s);
const green = (s: string) => color(32, s);

/** A tiny JSON API: GET /todos, GET /todos/:id, POST /echo. */
function startApi(): Promise<{ url: string; close: () => void }> {
  const todos = [
    { id: 1, title: 'write the manifest', done: true },
    { id: 2, title: 'sign the bundle', done: false },
    { id: 3, title: 'ship it', done: false },
  ];
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/todos') {
      const done = url.searchParams.get('done');
      return send(200, { items: done === null ? todos : todos.filter((t) => String(t.done) === done) });
    }
    const m = /^\/todos\/(\d+)$/.exec(url.pathname);
    if (req.method === 'GET' && m) {
      const t = todos.find((x) => x.id === Number(m[1]));
      return t ? send(200, t) : send(404, { error: 'not found' });
    }
    if (req.method === 'POST' && url.pathname === '/echo') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => send(201, { received: JSON.parse(body || 'null') }));
      return;
    }
    send(404, { error: 'no such route' });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => server.close() });
    });
  });
}

async function makeWorkspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-warden-demo-'));
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'README.md'), '# Demo project\n\nTODO: write more docs.\n');
  await writeFile(join(dir, 'src', 'app.ts'), 'export function main() {\n  // TODO: handle errors\n  return 42;\n}\n');
  await writeFile(join(dir, 'src', 'util.ts'), 'export const add = (a: number, b: number) => a + b;\n');
  await writeFile(join(dir, 'notes.txt'), 'groceries: milk, eggs\nTODO: call the bank\n');
  return dir;
}

function show(result: CallToolResult): string {
  const text = result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
  let pretty = text;
  try {
    pretty = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // plain text
  }
  const lines = pretty.split('\n');
  const body = (lines.length > 14 ? [...lines.slice(0, 14), `… (${lines.length - 14} more lines)`] : lines).map((l) => `    ${l}`).join('\n');
  return result.isError ? red(body) : body;
}

async function main(): Promise<void> {
  const api = await startApi();
  const workspace = await makeWorkspace();
  const home = await mkdtemp(join(tmpdir(), 'mcp-warden-demo-home-'));
  const pkgs = ['text-tools', 'http-json', 'file-search', 'number-crunch'].map((p) => join(root, 'tool-packages', p));
  const args = [join(root, 'dist', 'host', 'cli.js'), 'serve', '--home', home, ...pkgs.flatMap((p) => ['--dev', p])];
  args.push('--grant', `workspace=${workspace}`, '--grant', `api=${api.url}`);

  console.log(bold('mcp-warden demo'));
  console.log(dim(`  host:      node ${args.map((a) => a.replace(root, '.')).join(' ')}`));
  console.log(dim(`  workspace: ${workspace}   api: ${api.url}\n`));

  const transport = new StdioClientTransport({ command: process.execPath, args, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const client = new Client({ name: 'mcp-warden-demo', version: '1.0.0' });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    console.log(bold(`tools/list → ${tools.length} tools`));
    for (const t of tools) console.log(`  ${green(t.name.padEnd(30))} ${dim((t.description ?? '').slice(0, 70))}`);
    console.log();

    const call = async (name: string, args: Record<string, unknown>, note = '', onprogress?: (p: { progress: number; total?: number }) => void) => {
      console.log(`${bold('→')} ${bold(name)} ${dim(JSON.stringify(args))}${note ? `   ${dim(`(${note})`)}` : ''}`);
      const result = (await client.callTool({ name, arguments: args }, undefined, onprogress ? { onprogress } : {})) as CallToolResult;
      console.log(`${result.isError ? red('✗') : green('✓')}\n${show(result)}\n`);
      return result;
    };

    await call('text-tools__json_path', { json: '{"users":[{"name":"Ada","email":"ada@example.com"},{"name":"Linus"}]}', path: 'users[*].name' });
    await call('text-tools__convert_case', { text: 'Hello sandboxed World', to: 'snake' });
    await call('text-tools__sha256', { text: 'mcp-warden' });
    await call('text-tools__word_count', { text: 'the quick brown fox jumps over the lazy dog the end', top: 3 });
    await call('http-json__get_json', { url: `${api.url}/todos`, query: { done: false } }, 'granted host');
    await call('http-json__post_json', { url: `${api.url}/echo`, body: { hello: 'world' } });
    await call('file-search__grep', { pattern: 'TODO', maxResults: 10 }, 'granted workspace, read-only');
    await call('file-search__list_files', {});
    let updates = 0;
    await call('number-crunch__count_primes', { limit: 5_000_000, segment: 250_000 }, 'with progress', (p) => {
      updates++;
      if (updates % 3 === 1) process.stdout.write(dim(`    progress ${Math.round((100 * p.progress) / (p.total ?? 1))}%\n`));
    });

    console.log(bold('Refusals (each is a tool error with a stable code; the host keeps serving)'));
    await call('http-json__get_json', { url: 'https://example.com/' }, 'host not granted');
    await call('file-search__read_file', { path: '../../../../etc/passwd' }, 'path escape');
    await call('text-tools__convert_case', { text: 'x', to: 'shouting' }, 'invalid arguments');
    try {
      await client.callTool({ name: 'nope__missing', arguments: {} });
    } catch (e) {
      console.log(`${bold('→')} ${bold('nope__missing')}   ${dim('(unknown tool)')}\n${red(`    JSON-RPC error: ${(e as Error).message}`)}\n`);
    }
    console.log(green('demo finished: every call above went through the sandbox.'));
    console.log(dim(`audit trail: ${join(home, 'audit.log')}`));
  } catch (e) {
    console.error(red(`demo failed: ${(e as Error).message}`));
    console.error(dim(stderr));
    process.exitCode = 1;
  } finally {
    await client.close().catch(() => {});
    api.close();
    await rm(workspace, { recursive: true, force: true });
  }
}

await main();
