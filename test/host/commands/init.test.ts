/**
 * `mcp-warden init` output works as generated: bundled with esbuild (the scaffold's own build command,
 * with our esbuild), its own test passes, it type-checks against the sandbox API, and `serve --dev`
 * serves its tool to an MCP client.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { parse as parseYaml } from 'yaml';
import * as init from '../../../host/commands/init.ts';
import { SCAFFOLD_NODE_MAJOR } from '../../../host/init/scaffold.ts';
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

  describe('the release workflow (.github/workflows/release.yml)', () => {
    interface Step {
      name?: string;
      uses?: string;
      run?: string;
      with?: Record<string, unknown>;
    }
    interface Workflow {
      on: { push: { tags: string[] } };
      permissions: Record<string, string>;
      jobs: Record<string, { 'runs-on': string; permissions?: unknown; steps: Step[]; env?: unknown }>;
    }

    async function scaffolded(): Promise<{ dir: string; text: string; workflow: Workflow }> {
      const parent = tempDir('mcpw-init-release-');
      expect((await runCommandModule(init, ['weather-tool'], { cwd: parent })).code).toBe(0);
      const dir = join(parent, 'weather-tool');
      const text = readFileSync(join(dir, '.github', 'workflows', 'release.yml'), 'utf8');
      return { dir, text, workflow: parseYaml(text) as Workflow };
    }

    it('publishes with provenance on a version tag, after build, type-check and tests, with an OIDC token and no npm token', async () => {
      const { text, workflow } = await scaffolded();
      expect(workflow.on).toEqual({ push: { tags: ['v*'] } });
      // The job may mint an OIDC token (trusted publishing, Sigstore) and read the code: nothing more.
      expect(workflow.permissions).toEqual({ contents: 'read', 'id-token': 'write' });
      const [job, ...others] = Object.values(workflow.jobs);
      expect(others).toEqual([]);
      expect(job?.['runs-on']).toBe('ubuntu-latest');
      expect(job?.permissions).toBeUndefined();
      const runs = (job?.steps ?? []).map((s) => s.run ?? s.uses ?? '');
      const at = (prefix: string): number => runs.findIndex((r) => r.startsWith(prefix));
      expect(at('npm ci')).toBeGreaterThan(-1);
      expect(at('npm ci')).toBeLessThan(at('npm run typecheck'));
      expect(at('npm run typecheck')).toBeLessThan(at('npm test'));
      expect(at('npm test')).toBeLessThan(at('npm publish --provenance'));
      expect(runs.at(-1)).toBe('npm publish --provenance --access public');
      const setup = job?.steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
      expect(setup?.with).toMatchObject({ 'node-version': SCAFFOLD_NODE_MAJOR, 'registry-url': 'https://registry.npmjs.org' });
      // No long-lived credential anywhere: trusted publishing replaces NODE_AUTH_TOKEN / NPM_TOKEN.
      expect(text).not.toMatch(/secrets\.|NODE_AUTH_TOKEN|NPM_TOKEN/);
    });

    it('refuses to publish (its check step) until the tag is the version, the package is not private and names its repository', async () => {
      const { dir, workflow } = await scaffolded();
      const check = Object.values(workflow.jobs)[0]?.steps.find((s) => s.name?.startsWith('Check'))?.run;
      if (!check) throw new Error('no check step');
      const runCheck = (ref: string): { ok: boolean; out: string } => {
        const r = spawnSync('bash', ['-c', check], { cwd: dir, env: { PATH: process.env.PATH, GITHUB_REF: ref }, encoding: 'utf8' });
        return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
      };
      expect(runCheck('refs/tags/v0.1.0')).toMatchObject({ ok: false, out: expect.stringContaining('"private"') });
      const file = join(dir, 'package.json');
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      delete pkg.private;
      writeFileSync(file, JSON.stringify(pkg));
      expect(runCheck('refs/tags/v0.1.0')).toMatchObject({ ok: false, out: expect.stringContaining('"repository"') });
      writeFileSync(file, JSON.stringify({ ...pkg, repository: { type: 'git', url: 'git+https://github.com/acme/weather-tool.git' } }));
      expect(runCheck('refs/tags/v0.1.0')).toMatchObject({ ok: true });
      expect(runCheck('refs/tags/v0.2.0')).toMatchObject({ ok: false, out: expect.stringContaining('is not v0.1.0') });
      expect(runCheck('refs/heads/main')).toMatchObject({ ok: false });
    });
  });

  it('refuses a directory that is not empty (exit 2) and answers --help', async () => {
    const dir = tempDir('mcpw-init-full-');
    writeFileSync(join(dir, 'keep.txt'), 'mine');
    expect((await runCommandModule(init, [dir])).code).toBe(2);
    expect(readFileSync(join(dir, 'keep.txt'), 'utf8')).toBe('mine');
    expect((await runCommandModule(init, ['--help'])).stdout).toContain('Usage: mcp-warden init');
  });
});
