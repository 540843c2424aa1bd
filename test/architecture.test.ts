import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  if (!existsSync(join(root, dir))) return out;
  for (const name of readdirSync(join(root, dir))) {
    const rel = join(dir, name);
    if (name === 'node_modules' || name === 'dist' || name === 'fixtures') continue;
    if (statSync(join(root, rel)).isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.(ts|js|mjs|cjs)$/.test(name)) out.push(rel);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g)) {
    specs.push((m[1] ?? m[2] ?? m[3]) as string);
  }
  return specs;
}

const all = [...sourceFiles('runtime'), ...sourceFiles('host'), ...sourceFiles('scripts'), ...sourceFiles('bench')];

describe('module boundaries', () => {
  it('lets only runtime/isolate.ts import isolated-vm', () => {
    const offenders = all.filter((f) => f !== join('runtime', 'isolate.ts') && imports(f).some((s) => s === 'isolated-vm' || s.startsWith('isolated-vm/')));
    expect(offenders).toEqual([]);
    expect(imports(join('runtime', 'isolate.ts'))).toContain('isolated-vm');
  });

  it('keeps runtime/ from importing host/', () => {
    const offenders = sourceFiles('runtime').filter((f) => imports(f).some((s) => /(^|\/)host(\/|$)/.test(s)));
    expect(offenders).toEqual([]);
  });

  it('lets host/ reach runtime/ only through runtime/index.ts', () => {
    const offenders = sourceFiles('host').filter((f) =>
      imports(f).some((s) => {
        if (!s.startsWith('.')) return false;
        const target = relative(root, join(root, f, '..', s));
        return target.startsWith(`runtime${'/'}`) && target !== join('runtime', 'index.ts');
      }),
    );
    expect(offenders).toEqual([]);
  });

  it('uses no wildcard re-exports', () => {
    const offenders = all.filter((f) => /export\s+\*\s+from/.test(readFileSync(join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
