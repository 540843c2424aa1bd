import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The benchmark is not part of the suite (CI stays fast), but its harness runs here on a tiny workload,
// end to end (both servers over real stdio), so it cannot silently break.
const root = join(import.meta.dirname, '..', '..');

describe('npm run bench --quick', () => {
  it('drives both servers and reports every figure with a ratio where there is a baseline', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'warden-bench-smoke-')), 'results.json');
    const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'bench', 'run.ts'), '--quick', '--out', out], {
      cwd: root,
      timeout: 120_000,
    });
    expect(stdout).toMatch(/^\| Figure \| Unit \| mcp-warden median/m);
    const results = JSON.parse(readFileSync(out, 'utf8')) as {
      quick: boolean;
      figures: { name: string; warden: { median: number }; plain: { median: number } | null; ratio: number | null }[];
    };
    expect(results.quick).toBe(true);
    const byName = new Map(results.figures.map((f) => [f.name, f]));
    for (const name of ['Warm call p50, trivial tool', 'Throughput, 32 in flight', 'Gated fetch to 127.0.0.1, p50', 'Startup to first tools/list, 1 package']) {
      const f = byName.get(name);
      expect(f, name).toBeDefined();
      expect(f?.warden.median).toBeGreaterThan(0);
      expect(f?.plain?.median).toBeGreaterThan(0);
      expect(f?.ratio).toBeGreaterThan(0);
    }
    expect(results.figures.some((f) => f.name.startsWith('Sigstore bundle verification'))).toBe(true);
  }, 150_000);
});
