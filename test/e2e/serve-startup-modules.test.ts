/**
 * Issue 14 (start-up): what a serve with installed, sealed packages loads before it answers the first
 * tools/list. The tool-schema compiler (ajv), the Sigstore verifiers and the whole of semver were ~300 ms
 * of module loading there; they are loaded when first needed (a tool's first call or the background
 * warm-up, an unsealed or npm-provenance entry), never before the list is answered.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI, startHost, tempDir } from '../helpers/host.ts';
import { digestTree, writeSealedLock } from '../helpers/installed.ts';

const NAME = 'startup-tools';
const DIR = `packages/${NAME}@1.0.0`;

// Preloaded into serve: records every module it loads, and a marker when it writes the tools/list answer
// (through the stream, or with a write(2) on stdout's descriptor, as the transport does).
const HOOK = `
import { registerHooks, syncBuiltinESMExports } from 'node:module';
import fs, { appendFileSync } from 'node:fs';
const out = process.env.MODULES_FILE;
registerHooks({ load(url, context, next) { appendFileSync(out, url + '\\n'); return next(url, context); } });
let marked = false;
const mark = (chunk) => {
  if (!marked && String(chunk).includes('"tools":[')) { marked = true; appendFileSync(out, '=== tools/list answered\\n'); }
};
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  mark(chunk);
  return write(chunk, ...rest);
};
const writeSync = fs.writeSync;
fs.writeSync = (fd, chunk, ...rest) => {
  if (fd === 1) mark(chunk);
  return writeSync(fd, chunk, ...rest);
};
syncBuiltinESMExports();
`;

/**
 * The modules a run loaded, by their source: a file of the bundle (test/helpers/host.ts's CLI is the bundled
 * host, scripts/bundle-host.ts) stands for every module it holds (its meta.json: `host/…` for ours,
 * `node_modules/…` for a dependency); any other file as its path (`…/node_modules/…` for a dependency).
 */
function modulesOf(urls: readonly string[]): string[] {
  const bundleDir = dirname(CLI);
  const meta = JSON.parse(readFileSync(join(bundleDir, 'meta.json'), 'utf8')) as Record<string, string[]>;
  return urls.flatMap((url) => {
    if (!url.startsWith('file:')) return [url];
    const file = fileURLToPath(url);
    if (dirname(file) !== bundleDir) return [file];
    const inputs = meta[file.slice(bundleDir.length + 1)];
    if (inputs === undefined) throw new Error(`${file} is not in the bundle's meta.json`);
    return inputs;
  });
}

function writeInstalled(home: string): void {
  const dir = join(home, DIR);
  mkdirSync(dir, { recursive: true });
  const tools = [{ name: 'echo', description: 'Echoes.', inputSchema: { type: 'object', properties: { text: { type: 'string', pattern: '^[a-z]*$' } } } }];
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: NAME, version: '1.0.0', mcpWarden: { entry: 'index.js', tools } }));
  writeFileSync(join(dir, 'index.js'), 'export default { echo: ({ text }) => text };\n');
  writeSealedLock(home, { [NAME]: { version: '1.0.0', integrity: 'sha512-test', dir: DIR, grant: { net: [], fs: [], slots: {} }, installedAt: new Date().toISOString(), files: digestTree(dir) } });
}

describe('serve start-up with installed, sealed packages', () => {
  it('answers the first tools/list without loading ajv\'s compiler, the Sigstore libraries, all of semver or the tarball reader; a call still validates', async () => {
    const work = tempDir('warden-startup-modules-');
    const home = join(work, 'home');
    mkdirSync(home, { mode: 0o700 });
    writeInstalled(home);
    const hook = join(work, 'hook.mjs');
    writeFileSync(hook, HOOK);
    const modules = join(work, 'modules.txt');
    const h = await startHost({ home, env: { NODE_OPTIONS: `--import=${hook}`, MODULES_FILE: modules } });
    try {
      const list = await h.client.listTools();
      expect(list.tools.map((t) => t.name)).toEqual([`${NAME}__echo`]);
      const lines = readFileSync(modules, 'utf8').split('\n');
      const answered = lines.indexOf('=== tools/list answered');
      expect(answered).toBeGreaterThan(0);
      const urls = lines.slice(0, answered);
      // It ran the bundle, and loaded the host through it (the check is not vacuous).
      expect(urls).toContain(pathToFileURL(CLI).href);
      const before = modulesOf(urls);
      expect(before).toContain('host/commands/serve.js');
      expect(before.some((m) => m.startsWith('node_modules/@modelcontextprotocol/server/'))).toBe(true);
      // Nor the tarball reader (and zlib): only a kept copy's re-verification needs it (fifth pass).
      // ajv's ucs2length helper is the host's own (host/home/precompiled.ts), not resolved in node_modules.
      const heavy = before.filter((m) => /node_modules\/(@sigstore\/|ajv\/dist\/(2020|core)\.js|ajv\/dist\/runtime\/ucs2length|ajv-formats\/dist\/|semver\/index\.js)|host\/pack\/extract\.js/.test(m));
      expect(heavy).toEqual([]);
      // The schema is still enforced: the lazily compiled validator refuses what it must.
      const bad = await h.client.callTool({ name: `${NAME}__echo`, arguments: { text: 'NOT lower' } });
      expect(bad.isError).toBe(true);
      const ok = await h.client.callTool({ name: `${NAME}__echo`, arguments: { text: 'fine' } });
      expect(ok.isError).not.toBe(true);
    } finally {
      await h.close();
    }
  });
});
