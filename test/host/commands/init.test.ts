/**
 * `mcp-warden init` output works as generated: bundled with esbuild (the scaffold's own build command,
 * with our esbuild), its own test passes, it type-checks against the sandbox API, and `serve --dev`
 * serves its tool to an MCP client.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as init from '../../../host/commands/init.ts';
import { homeLayout } from '../../../host/home/home.ts';
import { createFeatures } from '../../../host/serve/features/index.ts';
import { loadPackage } from '../../../host/serve/loader.ts';
import { createLogger } from '../../../host/serve/logger.ts';
import { createRedactor } from '../../../host/serve/redact.ts';
import { createRegistry } from '../../../host/serve/registry.ts';
import { ROOT, startHost } from '../../helpers/host.ts';
import { newSandbox } from '../../helpers/sandbox.ts';
import { runCommandModule } from '../../helpers/run-command.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const bin = (name: string): string => join(ROOT, 'node_modules', '.bin', name);

describe('mcp-warden init', () => {
  it('scaffolds a package that builds, tests, type-checks and runs under serve --dev', async () => {
    const parent = tempDir('mcpw-init-');
    const r = await runCommandModule(init, ['My Tool', '--json'], { cwd: parent });
    expect(r.code).toBe(0);
    const dir = join(parent, 'My Tool');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; scripts: { build: string }; devDependencies: Record<string, string> };
    expect(pkg.name).toBe('my-tool');
    expect(pkg.devDependencies.esbuild).toBeDefined();

    // The scaffold's own build script, run with our esbuild.
    const [tool, ...args] = pkg.scripts.build.split(' ');
    expect(tool).toBe('esbuild');
    execFileSync(bin('esbuild'), args, { cwd: dir, stdio: 'pipe' });
    execFileSync(process.execPath, ['--test', 'test/index.test.mjs'], { cwd: dir, stdio: 'pipe' });
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { stdio: 'pipe' });

    const h = await startHost({ args: ['--dev', dir] });
    try {
      expect((await h.client.listTools()).tools.map((t) => t.name)).toEqual(['my-tool__greet']);
      const res = (await h.client.callTool({ name: 'my-tool__greet', arguments: { who: 'Ada' } })) as CallToolResult;
      expect(res.content[0]).toEqual({ type: 'text', text: 'Hello, Ada!' });
    } finally {
      await h.close();
    }
  });

  it('scaffolds a package whose own "npm run typecheck" works: TypeScript declared, tsc passes; the README links no placeholder', async () => {
    const parent = tempDir('mcpw-init-tc-');
    expect((await runCommandModule(init, ['tc-tool'], { cwd: parent })).code).toBe(0);
    const dir = join(parent, 'tc-tool');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: { typecheck: string }; devDependencies: Record<string, string> };
    // "npm install" must bring the tool the script names.
    const [tool, ...args] = pkg.scripts.typecheck.split(' ');
    expect(tool).toBe('tsc');
    const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(pkg.devDependencies.typescript).toBe(ours.devDependencies.typescript);
    execFileSync(bin('tsc'), args, { cwd: dir, stdio: 'pipe' });
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    // No link to a bare host ("https://github.com/") standing in for a real page.
    expect(readme).not.toMatch(/\]\(https?:\/\/[^/)]+\/?\)/);
  });

  it('scaffolds a package that serves a resource and a prompt with completions', async () => {
    const parent = tempDir('mcpw-init-serves-');
    expect((await runCommandModule(init, ['serves'], { cwd: parent })).code).toBe(0);
    const dir = join(parent, 'serves');
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: { build: string } };
    execFileSync(bin('esbuild'), pkg.scripts.build.split(' ').slice(1), { cwd: dir, stdio: 'pipe' });
    const loaded = await loadPackage({ kind: 'dev', dir, grantOverrides: { slots: {} } }, { home: homeLayout(tempDir('mcpw-init-home-')), verify: async () => { throw new Error('dev only'); } });
    const sandbox = newSandbox();
    try {
      const audit = { call: () => {}, capability: () => {}, pkg: () => {}, dlp: () => {}, digest: () => 'd', drain: async () => {}, close: async () => {} };
      const features = createFeatures({ registry: createRegistry([loaded]), sandbox, audit, logger: createLogger({ level: 'silent' }), redact: createRedactor() });
      const signal = new AbortController().signal;
      expect(features.listResources().map((r) => r.uri)).toEqual(['mcp-warden://serves/docs://about']);
      expect((await features.readResource('mcp-warden://serves/docs://about', { signal })).contents[0]).toMatchObject({ mimeType: 'text/markdown', text: expect.stringContaining('# serves') });
      expect((await features.getPrompt('serves__greeting', { who: 'Ada', style: 'formal' }, { signal })).messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Write a formal greeting for Ada.' } }]);
      expect((await features.complete({ ref: { type: 'ref/prompt', name: 'serves__greeting' }, argument: { name: 'style', value: 'c' } }, { signal })).completion.values).toEqual(['casual']);
    } finally {
      await sandbox.close();
    }
  });

  it('refuses a directory that is not empty (exit 2) and answers --help', async () => {
    const dir = tempDir('mcpw-init-full-');
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    expect((await runCommandModule(init, [dir])).code).toBe(2);
    expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('mine');
    expect((await runCommandModule(init, ['--help'])).stdout).toContain('Usage: mcp-warden init');
  });
});
