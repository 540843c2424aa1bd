import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The benchmark is not part of the suite (CI stays fast), but its harness runs here in its smoke mode
// (a handful of calls per figure, one server of each kind, both over real stdio), so it cannot silently
// break. What is checked is the report's shape, never a number's size: the machine may be loaded.
const root = join(import.meta.dirname, '..', '..');

const FIGURES = [
  'Warm call p50, fresh context per call',
  'Warm call p50, trivial tool',
  'Warm call p99, trivial tool',
  'Warm call p50, 100 KB JSON transform + hash',
  'Warm call p99, 100 KB JSON transform + hash',
  'Throughput, sequential',
  'Throughput, 32 in flight',
  'Gated fetch to 127.0.0.1, p50',
  'First call to a package with no isolate yet',
  '  second call to the same package',
  'Startup to first tools/list, 1 package',
  'Startup to first tools/list, 2 packages (--dev)',
  'Resident memory, 1 package idle (host + workers)',
  'Resident memory, 2 packages idle (host + workers)',
  'Resident memory, 2 packages after one call each',
  '  per package, idle',
  '  per package, after one call',
  'Floor: bare round trip to a child process (socketpair, no work)',
  'Integrity check (ssri sha512), 10 KB package',
  'Sigstore bundle verification, 10 KB package',
  'Integrity check (ssri sha512), 1 MB package',
  'Sigstore bundle verification, 1 MB package',
];
// Figures with a plain-server baseline, hence a ratio.
const WITH_BASELINE = FIGURES.slice(0, 8).concat(FIGURES.slice(10, 17));

interface Stat {
  median: number;
  min: number;
  max: number;
}

describe('npm run bench --smoke', () => {
  it('drives both servers and reports every figure with finite numbers, and a ratio where there is a baseline', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'warden-bench-smoke-')), 'results.json');
    const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'bench', 'run.ts'), '--smoke', '--out', out], { cwd: root });
    expect(stdout).toMatch(/^\| Figure \| Unit \| mcp-warden median/m);
    const results = JSON.parse(readFileSync(out, 'utf8')) as {
      mode: string;
      figures: { name: string; warden: Stat; plain: Stat | null; ratio: number | null }[];
    };
    expect(results.mode).toBe('smoke');
    expect(results.figures.map((f) => f.name)).toEqual(FIGURES);
    const finite = (s: Stat) => [s.median, s.min, s.max].every(Number.isFinite);
    for (const f of results.figures) {
      expect(finite(f.warden), f.name).toBe(true);
      if (WITH_BASELINE.includes(f.name)) {
        expect(f.plain !== null && finite(f.plain), f.name).toBe(true);
        expect(Number.isFinite(f.ratio), f.name).toBe(true);
      } else {
        expect([f.plain, f.ratio], f.name).toEqual([null, null]);
      }
    }
  }, 120_000);
});
