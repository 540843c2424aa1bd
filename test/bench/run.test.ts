import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The benchmark is not part of the suite (CI stays fast), but its harness runs here in its smoke mode
// (a handful of calls per figure, one server of each kind, all over real stdio), so it cannot silently
// break. What is checked is the report's shape, never a number's size: the machine may be loaded.
const root = join(import.meta.dirname, '..', '..');

const FIGURES = [
  'Warm call p50, fresh context per call',
  'Warm call p50, trivial tool',
  'Floor: bare round trip to a child process (socketpair, no work), same rounds',
  '  warm p50 − McpServer p50, in bare round trips',
  'Floor of this design: the round trip answered through an isolate entry (a trivial tool call), same rounds',
  '  that floor, in bare round trips',
  'Warm call p99, trivial tool',
  'CPU per warm call, server process (mcp-warden: host)',
  'CPU per warm call, sandbox worker processes',
  'CPU per warm call, all processes',
  'Warm call p50, 100 KB JSON transform + hash',
  'Warm call p99, 100 KB JSON transform + hash',
  'Floor of this design for the transform: the round trip answered through an isolate entry running it, same rounds',
  '  the transform alone in Node, as the plain server runs it',
  '  least transform p50 ÷ McpServer p50 that floor allows',
  'Warm call p50, ~1 MB result (25 000 rows)',
  '  ~1 MB result − McpServer p50',
  'Warm call p50, ~1 MB result, DLP off (config.json)',
  '  ~1 MB result, DLP off − McpServer p50',
  'Throughput, sequential',
  'Throughput, 32 in flight',
  'Gated fetch to 127.0.0.1, warm p50',
  'Floor of this design for the gated fetch: the round trip answered through isolate entries making it, same rounds',
  '  the fetch tool alone in Node, as the plain server runs it',
  '  least fetch p50 ÷ McpServer p50 that floor allows',
  'First call to a package with no isolate yet',
  '  second call to the same package',
  '  first − second, per package',
  'Startup to first tools/list, 1 package (--dev)',
  'Startup to first tools/list, 2 packages (--dev)',
  'Startup to first tools/list, 2 installed signed packages',
  'Resident memory, 1 package idle (host + workers)',
  'Resident memory, 2 packages idle (host + workers)',
  'Resident memory, 2 packages after one call each',
  '  per package, idle',
  '  per package, after one call',
  'Integrity check (ssri sha512), 10 KB package',
  'Sigstore bundle verification, 10 KB package',
  'Integrity check (ssri sha512), 1 MB package',
  'Sigstore bundle verification, 1 MB package',
  'DLP on a 100 KB result (default policy), extra host time',
];
// Figures measured on both plain baselines too (McpServer and low-level Server), set against them by ratio…
const BY_RATIO = [...FIGURES.slice(0, 2), FIGURES[6], FIGURES[7], ...FIGURES.slice(9, 12), FIGURES[15], FIGURES[17], ...FIGURES.slice(19, 22), ...FIGURES.slice(28, 34)];
// …or, where a baseline's figure is near zero (per-package memory slopes), by difference.
const BY_DIFFERENCE = FIGURES.slice(34, 36);

interface Stat {
  median: number;
  min: number;
  max: number;
}
interface Summary {
  name: string;
  warden: Stat;
  plain: Stat | null;
  lowLevel: Stat | null;
  ratio: number | null;
  ratioLowLevel: number | null;
  difference: number | null;
  differenceLowLevel: number | null;
}

describe('npm run bench --smoke', () => {
  it('drives mcp-warden and both baselines and reports every figure with finite numbers, set against each baseline', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'warden-bench-smoke-')), 'results.json');
    const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'bench', 'run.ts'), '--smoke', '--out', out], { cwd: root });
    expect(stdout).toMatch(/^\| Figure \| Unit \| mcp-warden median \(min–max\) \| plain McpServer median \(min–max\) \| vs McpServer \| plain Server/m);
    // How the machine wakes a CPU is reported with every run (the round trips themselves only in a full run).
    expect(stdout).toMatch(/^This machine: bare round trip on one CPU and across two: not measured .*; cpuidle governor /m);
    const results = JSON.parse(readFileSync(out, 'utf8')) as { mode: string; machine: { governor: unknown; haltPollNs: unknown; wakeUps: unknown }; figures: Summary[] };
    expect(results.mode).toBe('smoke');
    expect(results.machine).toEqual({ governor: expect.toSatisfy((g) => g === null || typeof g === 'string'), haltPollNs: expect.toSatisfy((n) => n === null || Number.isInteger(n)), wakeUps: null });
    expect(results.figures.map((f) => f.name)).toEqual(FIGURES);
    const finite = (s: Stat | null) => s !== null && [s.median, s.min, s.max].every(Number.isFinite);
    for (const f of results.figures) {
      expect(finite(f.warden), f.name).toBe(true);
      if (BY_RATIO.includes(f.name)) {
        expect(finite(f.plain) && finite(f.lowLevel), f.name).toBe(true);
        // A ratio wherever the baseline's median is not zero (a few calls may spend no whole CPU tick).
        expect(Number.isFinite(f.ratio), f.name).toBe(f.plain?.median !== 0);
        expect(Number.isFinite(f.ratioLowLevel), f.name).toBe(f.lowLevel?.median !== 0);
        expect([f.difference, f.differenceLowLevel], f.name).toEqual([null, null]);
      } else if (BY_DIFFERENCE.includes(f.name)) {
        expect(finite(f.plain) && finite(f.lowLevel), f.name).toBe(true);
        expect([Number.isFinite(f.difference), Number.isFinite(f.differenceLowLevel)], f.name).toEqual([true, true]);
        expect([f.ratio, f.ratioLowLevel], f.name).toEqual([null, null]);
      } else {
        expect([f.plain, f.lowLevel, f.ratio, f.ratioLowLevel], f.name).toEqual([null, null, null, null]);
      }
    }
  }, 120_000);
});
