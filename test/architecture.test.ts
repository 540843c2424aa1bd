import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
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

  it('writes host files atomically through one atomicWrite (host/home/files.ts): no other temp-then-rename or link', () => {
    // install's extraction renames a whole directory into place (host/install/commit.ts), the audit log's
    // rotation renames audit.log to audit.log.1 (host/serve/audit.ts): neither is a file write.
    const allowed = new Set([join('host', 'home', 'files.ts'), join('host', 'install', 'commit.ts'), join('host', 'serve', 'audit.ts')]);
    const fsImport = /import\s*\{([^}]*)\}\s*from\s*['"]node:fs(?:\/promises)?['"]/g;
    const offenders = all.filter((f) => {
      if (!f.startsWith(`host${sep}`) || allowed.has(f)) return false;
      const names = [...readFileSync(join(root, f), 'utf8').matchAll(fsImport)].flatMap((m) => (m[1] as string).split(',').map((n) => n.trim().split(/\s+as\s+/)[0]));
      return names.some((n) => n === 'rename' || n === 'renameSync' || n === 'link' || n === 'linkSync');
    });
    expect(offenders).toEqual([]);
  });

  it('reads host JSON files through one readJsonFile (host/home/files.ts)', () => {
    const offenders = all.filter((f) => f !== join('host', 'home', 'files.ts') && /function readJsonFile\b/.test(readFileSync(join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
