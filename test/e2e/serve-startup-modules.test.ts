/**
 * Issue 14 (start-up): what a serve with installed, sealed packages loads before it answers the first
 * tools/list. The tool-schema compiler (ajv), the Sigstore verifiers and the whole of semver were ~300 ms
 * of module loading there; they are loaded when first needed (a tool's first call or the background
 * warm-up, an unsealed or npm-provenance entry), never before the list is answered.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHost, tempDir } from '../helpers/host.ts';
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

function writeInstalled(home: string): void {
  const dir = join(home, DIR);
  mkdirSync(dir, { recursive: true });
  const tools = [{ name: 'echo', description: 'Echoes.', inputSchema: { type: 'object', properties: { text: { type: 'string', pattern: '^[a-z]*$' } } } }];
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: NAME, version: '1.0.0', mcpWarden: { entry: 'index.js', tools } }));
  writeFileSync(join(dir, 'index.js'), 'export default { echo: ({ text }) => text };\n');
  writeSealedLock(home, { [NAME]: { version: '1.0.0', integrity: 'sha512-test', dir: DIR, grant: { net: [], fs: [], slots: {} }, installedAt: new Date().toISOString(), files: digestTree(dir) } });
}

describe('serve start-up with installed, sealed packages', () => {
  it('answers the first tools/list without loading ajv\'s compiler, the Sigstore libraries or all of semver; a call still validates', async () => {
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
      const before = lines.slice(0, answered);
      // It did load the host (the check is not vacuous).
      expect(before.some((u) => u.endsWith('/host/commands/serve.js'))).toBe(true);
      const heavy = before.filter((u) => /node_modules\/(@sigstore\/|ajv\/dist\/(2020|core)\.js|ajv-formats\/dist\/|semver\/index\.js)/.test(u));
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
