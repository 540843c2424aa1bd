/**
 * Issue 14 (start-up): the host ships bundled. scripts/bundle-host.ts turns the compiled host into one ES
 * module and its lazily loaded chunks (dist/host/bundle/), bin/mcp-warden.cjs loads that entry, and what
 * the bundled modules find next to themselves (validators, the worker's entry, the isolate bootstrap,
 * package.json) is still found.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_BUNDLE } from '../../scripts/cli-entry.ts';
import { CLI, ROOT, childEnv, ensureBuilt, tempDir } from '../helpers/host.ts';
import { writeToolPackage } from '../helpers/tool-package.ts';

const LAUNCHER = join(ROOT, 'bin', 'mcp-warden.cjs');
const BUNDLE_DIR = dirname(CLI);

// Preloaded (NODE_OPTIONS): records every module the process loads.
const HOOK = `
import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
registerHooks({ load(url, context, next) { appendFileSync(process.env.MODULES_FILE, url + '\\n'); return next(url, context); } });
`;

/** The JavaScript files under dist/ a run loaded, outside the bundle's directory. */
function unbundledDistModules(urls: readonly string[]): string[] {
  const dist = join(ROOT, 'dist');
  return urls
    .filter((u) => u.startsWith('file:'))
    .map((u) => fileURLToPath(u))
    .filter((f) => f.startsWith(dist + '/') && f.endsWith('.js') && dirname(f) !== BUNDLE_DIR);
}

beforeAll(() => ensureBuilt());

describe('the bundled host', () => {
  it('is what the build writes: an entry, its chunks, and meta.json naming the modules each holds', () => {
    expect(CLI).toBe(join(ROOT, ...CLI_BUNDLE));
    const meta = JSON.parse(readFileSync(join(BUNDLE_DIR, 'meta.json'), 'utf8')) as Record<string, string[]>;
    const entry = meta['cli.js'] ?? [];
    expect(entry).toContain('host/cli.js');
    // Commands are imported lazily: serve is a chunk of its own, not in the entry.
    expect(entry).not.toContain('host/commands/serve.js');
    const all = Object.values(meta).flat();
    expect(all).toContain('host/commands/serve.js');
    expect(all.some((m) => m.startsWith('node_modules/@modelcontextprotocol/server/'))).toBe(true);
    // Native addons and what the host requires on first use stay outside.
    expect(all.filter((m) => /^node_modules\/(isolated-vm|@napi-rs\/keyring|@sigstore\/|ajv\/|esbuild\/)/.test(m))).toEqual([]);
    const files = readdirSync(BUNDLE_DIR);
    for (const out of Object.keys(meta)) expect(files).toContain(out);
  });

  it('holds no absolute path of the build: it finds files next to its modules relative to itself', () => {
    for (const f of readdirSync(BUNDLE_DIR).filter((n) => n.endsWith('.js'))) {
      const text = readFileSync(join(BUNDLE_DIR, f), 'utf8');
      expect([f, text.includes(join(ROOT, 'dist'))]).toEqual([f, false]);
    }
  });

  it('is what bin/mcp-warden.cjs runs: --version loads the bundle and no module of the tsc output', () => {
    const work = tempDir('bundle-bin');
    const hook = join(work, 'hook.mjs');
    writeFileSync(hook, HOOK);
    const modules = join(work, 'modules.txt');
    const out = execNode([LAUNCHER, '--version'], { NODE_OPTIONS: `--import=${hook}`, MODULES_FILE: modules });
    const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(out.trim()).toBe(version);
    const urls = readFileSync(modules, 'utf8').trim().split('\n');
    expect(urls).toContain(pathToFileURL(CLI).href);
    expect(unbundledDistModules(urls)).toEqual([]);
  });

  it('serves through the bin: its version, the tool list and a call in a worker, with no module of the tsc output in the host', async () => {
    const work = tempDir('bundle-serve');
    const hook = join(work, 'hook.mjs');
    writeFileSync(hook, HOOK);
    const modules = join(work, 'modules.txt');
    const pkg = writeToolPackage(tempDir('bundle-pkg'), '@acme/echo', '1.0.0');
    writeFileSync(join(pkg, 'dist', 'index.js'), 'export default { echo: ({ text }) => `echo: ${text}` };\n');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [LAUNCHER, 'serve', '--home', tempDir('bundle-home'), '--dev', pkg],
      env: childEnv({ NODE_OPTIONS: `--import=${hook}`, MODULES_FILE: modules }),
      stderr: 'pipe',
    });
    const client = new Client({ name: 'bundle-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
      expect(client.getServerVersion()).toMatchObject({ name: 'mcp-warden', version });
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['acme.echo__echo']);
      // The worker's entry and the isolate bootstrap are found from the bundle: the call runs.
      const r = await client.callTool({ name: 'acme.echo__echo', arguments: { text: 'hi' } });
      expect(r.isError).not.toBe(true);
      expect(JSON.stringify(r.content)).toContain('echo: hi');
    } finally {
      await client.close();
    }
    const urls = readFileSync(modules, 'utf8').trim().split('\n');
    expect(urls).toContain(pathToFileURL(CLI).href);
    expect(unbundledDistModules(urls)).toEqual([]);
  });
});

function execNode(args: readonly string[], env: Record<string, string>): string {
  const r = spawnSync(process.execPath, args, { env: childEnv(env), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}
