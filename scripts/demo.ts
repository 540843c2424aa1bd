/**
 * The end-to-end demo, through the real signed path: packs the example packages, generates a publisher
 * key, signs them (keyed), trusts the key in a fresh home, installs them with consent (--yes) and grants
 * (--grant), then starts the built host (`node dist/host/bundle/cli.js serve`, what the bin loads) on the INSTALLED packages, drives
 * it with the MCP SDK's Client over real stdio, and prints each call and its result — including refused
 * capabilities, a tampered tarball refused at install and a package tampered with after install refused
 * by serve. Offline: a throwaway workspace and a local JSON API on 127.0.0.1 are all it grants.
 *
 * Run: npm run demo   (builds first)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { appendFile, cp, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI_BUNDLE } from './cli-entry.ts';

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
  await mkdir(join(dir, 'notes'));
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

const cliPath = join(root, ...CLI_BUNDLE);

/** Runs `mcp-warden ARGS` (the built CLI), printing the command and its output; resolves to the exit code. */
let demoCwd = root;
let workspaceDir = '';

function mcpWarden(args: string[], options: { quiet?: boolean; expectFail?: boolean } = {}): Promise<number> {
  const shown = args.map((a) => a.replace(root, '.').replace(workspaceDir || '\0', '$WORKSPACE')).join(' ');
  console.log(`${dim('$')} mcp-warden ${shown}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: demoCwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = out.trimEnd().split('\n').filter((l) => l && !l.includes('NOT encrypted'));
      if (!options.quiet || code !== 0) for (const l of lines) console.log(code === 0 ? dim(`    ${l}`) : red(`    ${l}`));
      if ((code !== 0) !== (options.expectFail ?? false)) reject(new Error(`mcp-warden ${args[0]} exited ${code}`));
      else resolve(code ?? -1);
    });
  });
}

/** Publisher side, then user side: pack, keygen, sign, trust, install. */
async function publishAndInstall(work: string, grants: Record<string, string[]>): Promise<void> {
  const home = 'home';
  console.log(bold('1. The publisher packs and signs the five example packages'));
  await mcpWarden(['keygen', '--out', 'acme']);
  for (const name of Object.keys(grants)) {
    await mcpWarden(['pack', join(root, 'tool-packages', name), '--out', 'dist'], { quiet: true });
    await mcpWarden(['sign', `dist/${name}-1.0.0.tgz`, '--key', 'acme.key'], { quiet: name !== 'text-tools' });
  }
  console.log();
  console.log(bold('2. The user trusts the publisher\'s key and installs the packages (verify, consent, atomic install)'));
  await mcpWarden(['trust', 'add-key', 'acme.pub', '--name', 'acme', '--home', home]);
  for (const [name, extra] of Object.entries(grants)) {
    await mcpWarden(['install', `dist/${name}-1.0.0.tgz`, '--yes', ...extra, '--home', home], { quiet: name !== 'http-json' });
  }
  console.log();
  console.log(bold('3. A tarball changed after signing is refused, and nothing is installed'));
  const copy = join(work, 'evil-src');
  await cp(join(root, 'tool-packages', 'number-crunch'), copy, { recursive: true });
  await appendFile(join(copy, 'index.js'), '\n// a backdoor would go here\n');
  await mcpWarden(['pack', 'evil-src', '--out', 'evil'], { quiet: true });
  const evil = 'evil/number-crunch-1.0.0.tgz';
  await mcpWarden(['install', evil, '--bundle', 'dist/number-crunch-1.0.0.tgz.sigstore.json', '--yes', '--home', home], { expectFail: true });
  await mcpWarden(['list', '--home', home]);
  console.log();
}

async function main(): Promise<void> {
  const api = await startApi();
  const workspace = await makeWorkspace();
  const work = await mkdtemp(join(tmpdir(), 'mcp-warden-demo-'));
  const home = join(work, 'home');
  const args = [cliPath, 'serve', '--home', home];
  demoCwd = work;
  workspaceDir = workspace;

  console.log(bold('mcp-warden demo: the signed path, offline'));
  console.log(dim(`  in ${work} (home: ./home)   $WORKSPACE: ${workspace}   api: ${api.url}\n`));
  try {
    await publishAndInstall(work, {
      'text-tools': [],
      'http-json': ['--grant', `api=${api.url}`],
      'file-search': ['--grant', `workspace=${workspace}`],
      'number-crunch': [],
      notes: ['--grant', `notes=${join(workspace, 'notes')}`],
    });
  } catch (e) {
    console.error(red(`demo failed: ${(e as Error).message}`));
    process.exitCode = 1;
    api.close();
    return;
  }
  console.log(bold('4. serve the installed packages to an MCP client over stdio'));
  console.log(dim(`  host: node ${args.map((a) => a.replace(root, '.').replace(work, '.')).join(' ')}\n`));

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

    console.log(bold('Resources, prompts and completions (served by the notes package, each read in the sandbox)'));
    await call('notes__add_note', { id: 'groceries', text: '# Groceries\n\nmilk, eggs, bread' }, 'granted notes directory');
    const { resources } = await client.listResources();
    const { resourceTemplates } = await client.listResourceTemplates();
    console.log(`${bold('resources/list →')} ${resources.map((r) => green(r.uri)).join(', ')}`);
    console.log(`${bold('resources/templates/list →')} ${resourceTemplates.map((t) => green(t.uriTemplate)).join(', ')}`);
    const template = resourceTemplates[0]?.uriTemplate ?? '';
    const completion = await client.complete({ ref: { type: 'ref/resource', uri: template }, argument: { name: 'id', value: 'gro' } });
    console.log(`${bold('completion/complete')} ${dim('id = "gro…"')} → ${completion.completion.values.join(', ')}`);
    const noteUri = template.replace('{id}', 'groceries');
    const read = await client.readResource({ uri: noteUri });
    const first = read.contents[0];
    console.log(`${bold('resources/read')} ${dim(noteUri)} →\n${dim(`    ${(first && 'text' in first ? String(first.text) : '').split('\n').join('\n    ')}`)}`);
    const prompt = await client.getPrompt({ name: 'notes__review', arguments: { topic: 'the sandbox', tone: 'brief' } });
    const message = prompt.messages[0]?.content;
    console.log(`${bold('prompts/get')} ${dim('notes__review')} → ${message?.type === 'text' ? message.text : `[${message?.type}]`}\n`);

    console.log(bold('Refusals (each is a tool error with a stable code; the host keeps serving)'));
    await call('http-json__get_json', { url: 'https://example.com/' }, 'host not granted');
    await call('file-search__read_file', { path: '../../../../etc/passwd' }, 'path escape');
    await call('text-tools__convert_case', { text: 'x', to: 'shouting' }, 'invalid arguments');
    try {
      await client.callTool({ name: 'nope__missing', arguments: {} });
    } catch (e) {
      console.log(`${bold('→')} ${bold('nope__missing')}   ${dim('(unknown tool)')}\n${red(`    JSON-RPC error: ${(e as Error).message}`)}\n`);
    }
    await client.close();

    console.log(bold('5. A package tampered with after install is refused by serve; the others still load'));
    await appendFile(join(home, 'packages', 'text-tools@1.0.0', 'index.js'), '\nexport const exfiltrate = () => "pwned";\n');
    console.log(`${dim('$')} echo '…' >> home/packages/text-tools@1.0.0/index.js && mcp-warden serve --home home`);
    const again = new StdioClientTransport({ command: process.execPath, args, stderr: 'pipe' });
    let stderr2 = '';
    again.stderr?.on('data', (c: Buffer) => (stderr2 += c.toString()));
    const client2 = new Client({ name: 'mcp-warden-demo', version: '1.0.0' });
    await client2.connect(again);
    const after = (await client2.listTools()).tools.map((t) => t.name);
    await client2.close();
    for (const l of stderr2.split('\n').filter((x) => x.includes('REFUSED'))) console.log(red(`    ${l}`));
    console.log(dim(`    tools/list → ${after.length} tools, none from text-tools: ${after.every((n) => !n.startsWith('text-tools__'))}`));
    console.log();
    console.log(green('demo finished: signed, verified, installed with consent, and every call went through the sandbox.'));
    console.log(dim(`audit trail: ${join(home, 'audit.log')} (the demo directory is kept for inspection)`));
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
