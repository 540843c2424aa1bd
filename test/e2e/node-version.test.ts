/**
 * The documented desktop-client configuration works on a machine whose system `node` is older than 24
 * (issue 8, item 27): the client runs `"command": "node"` (the system one) with bin/mcp-warden.cjs, which
 * re-executes the CLI with the Node 24 of the `node` devDependency. Driven for real with the system Node
 * (v20 on the machines this project is tested on) and the MCP SDK client over stdio; and, when no Node
 * 24 can be found, one readable line names the version needed. Needs `npm run build`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { CLI_BUNDLE } from '../../scripts/cli-entry.ts';
import { ROOT } from '../helpers/host.ts';
import { tempDir, writeToolPackage } from '../helpers/tool-package.ts';

const LAUNCHER = join(ROOT, 'bin', 'mcp-warden.cjs');

/** The first `node` on PATH outside any node_modules (npm and npx put the project's Node 24 first). */
function systemNode(): { path: string; major: number } | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.includes('node_modules')) continue;
    const p = join(dir, 'node');
    try {
      accessSync(p, constants.X_OK);
    } catch {
      continue;
    }
    const v = spawnSync(p, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    return { path: p, major: Number(v.split('.')[0]) };
  }
  return undefined;
}

const older = systemNode();
const hasOlderNode = older !== undefined && older.major < 24;

describe.skipIf(!hasOlderNode)(`the launcher under the system Node ${older?.major ?? '?'}`, () => {
  const node = older?.path ?? 'node';

  it('package.json "bin" is the launcher, and the README snippets use it with "command": "node"', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; devDependencies: Record<string, string>; files: string[] };
    expect(pkg.bin['mcp-warden']).toBe('bin/mcp-warden.cjs');
    // The project's Node 24 is pinned as a devDependency: `npm ci` in the checkout the README's client
    // configurations point at installs it, whatever the system Node.
    expect(pkg.devDependencies.node).toMatch(/^\^24\./);
    expect(pkg.files).toContain('bin');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const snippets = [...readme.matchAll(/"command": "node",\s*"args": \["([^"]+)"/g)].map((m) => m[1]);
    expect(snippets.length).toBeGreaterThanOrEqual(3);
    for (const s of snippets) expect(s).toMatch(/\/bin\/mcp-warden\.cjs$/);
  });

  it('answers --version with the CLI running on Node 24', () => {
    const r = spawnSync(node, [LAUNCHER, '--version'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('serves an MCP client over stdio: initialize, then tools/list', async () => {
    const pkg = writeToolPackage(tempDir('mcpw-node20-pkg-'), '@acme/echo', '1.0.0');
    const home = tempDir('mcpw-node20-home-');
    const transport = new StdioClientTransport({ command: node, args: [LAUNCHER, 'serve', '--home', home, '--dev', pkg], stderr: 'pipe' });
    const client = new Client({ name: 'node20-client', version: '1.0.0' });
    try {
      await client.connect(transport);
      expect(client.getServerVersion()?.name).toBe('mcp-warden');
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['acme.echo__echo']);
    } finally {
      await client.close();
    }
  });

  it('forwards SIGTERM to the CLI and exits with it, leaving no Node 24 process behind', async () => {
    const home = tempDir('mcpw-node20-sig-');
    const child = spawn(node, [LAUNCHER, 'serve', '--home', home], { stdio: ['pipe', 'pipe', 'pipe'] });
    // Wait until the CLI itself (the re-executed Node 24) runs: it answers initialize.
    const answered = new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } })}\n`);
    await answered;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    child.kill('SIGTERM');
    const r = await exited;
    expect(r.code === 0 || r.signal === 'SIGTERM').toBe(true);
    const leftovers = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(home);
        } catch {
          return false;
        }
      });
    expect(leftovers).toEqual([]);
  });

  it('without a Node 24 to use, prints one line naming the version needed', () => {
    const copy = tempDir('mcpw-node20-bare-');
    mkdirSync(join(copy, 'bin'));
    mkdirSync(join(copy, ...CLI_BUNDLE.slice(0, -1)), { recursive: true });
    copyFileSync(LAUNCHER, join(copy, 'bin', 'mcp-warden.cjs'));
    writeFileSync(join(copy, ...CLI_BUNDLE), 'export {};\n');
    const r = spawnSync(node, [join(copy, 'bin', 'mcp-warden.cjs'), 'serve'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^mcp-warden needs Node 24 \\(found ${older?.major}\\.\\d+\\.\\d+\\)`));
  });
});
