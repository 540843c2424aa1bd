/**
 * The bundle step (host/wrap/bundle.ts) on the loop-server fixture (an SDK server in a local directory):
 * one ES module with no imports left, Node's built-ins replaced, what cannot be served reported with
 * the files that import it, and the bundled packages listed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleServer, serverMain } from '../../../host/wrap/bundle.ts';
import type { BundleResult } from '../../../host/wrap/bundle.ts';
import { WRAP_FIXTURES } from './e2e-harness.ts';

const DIR = join(WRAP_FIXTURES, 'loop-server');

describe('bundleServer', () => {
  let b: BundleResult;
  beforeAll(async () => {
    b = await bundleServer(DIR, join(DIR, 'server.js'), { argv: ['${data}'], env: { A: 'b' }, cwd: '' }, { name: 'loop-server', version: '1.0.0' }, mkdtempSync(join(tmpdir(), 'mcp-warden-bundle-')));
  });

  it('makes one ES module with no imports and the server entry export', () => {
    expect(b.code).not.toMatch(/^\s*import\s[^(]/m);
    expect(b.code).not.toMatch(/\brequire\(["']node:/);
    expect(b.code).toMatch(/export\s*\{[^}]*mcpServer/);
  });

  it('reports child_process with the file that imports it, and its APIs', () => {
    expect(b.unsupportedModules).toEqual([{ module: 'node:child_process', importers: ['server.js'] }]);
    expect(b.unsupportedApis).toEqual(expect.arrayContaining(['node:child_process.spawn', 'node:child_process.execSync']));
  });

  it('lists the bundled packages', () => {
    const names = b.bundledLocations.map((l) => l.slice(l.lastIndexOf('node_modules/') + 'node_modules/'.length));
    expect(names).toEqual(expect.arrayContaining(['@modelcontextprotocol/sdk', 'zod']));
  });
});

describe('serverMain', () => {
  it.each([
    [{ name: 'x', bin: 'cli.js' }, 'cli.js'],
    [{ name: '@s/x', bin: { other: 'o.js', x: 'x.js' } }, 'x.js'],
    [{ name: '@s/x', bin: { other: 'o.js' } }, 'o.js'],
    [{ name: 'x', main: 'main.js' }, 'main.js'],
  ])('%j runs %s', (pkg, file) => {
    expect(serverMain(pkg)).toBe(file);
  });

  it('refuses a package that names no bin and no main', () => {
    expect(() => serverMain({ name: 'x' })).toThrow(expect.objectContaining({ code: 'PACKAGE_INVALID' }));
  });
});
