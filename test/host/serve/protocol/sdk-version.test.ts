/**
 * The host speaks MCP through the SDK v2 (`@modelcontextprotocol/server`, a dependency); the v1 SDK
 * (`@modelcontextprotocol/sdk`) is only a devDependency (its client drives 2025-11-25 tests), so nothing
 * that ships may import it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|js)$/.test(e.name) ? [join(dir, e.name)] : []));
}

describe('the MCP SDK the host ships with', () => {
  it('is v2: no file of host/ or runtime/ imports the v1 SDK', () => {
    const offenders = [...sources(join(ROOT, 'host')), ...sources(join(ROOT, 'runtime'))].filter((f) => readFileSync(f, 'utf8').includes("'@modelcontextprotocol/sdk"));
    expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  });

  it('lists v2 as a dependency and v1 as a devDependency only', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).toContain('@modelcontextprotocol/server');
    expect(Object.keys(pkg.dependencies)).not.toContain('@modelcontextprotocol/sdk');
  });
});
