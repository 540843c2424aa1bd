/**
 * node bench/wrap.ts [--calls N] [--rounds N]: per-call latency of each wrapped target (docs/wrapping.md)
 * against the same server run natively, in the same run. Each target is wrapped from the pinned locks
 * of test/fixtures/wrap (tarballs from the integrity-keyed cache there), packed, signed with a test key,
 * installed and served by mcp-warden over stdio; the native server is node + its bin from the same
 * fetched tree. Both are driven by the SDK's Client over stdio, taking turns round by round; the table
 * gives the median p50 (µs) of each and the ratio wrapped / native. Warm calls only (a first call, which
 * starts the wrapped server in its isolate, is made before measuring).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { call, connect, disconnect, latency } from './harness.ts';
import type { Connected } from './harness.ts';
import { CLI } from '../test/helpers/host.ts';
import { wrapAndInstall } from '../test/host/wrap/e2e-harness.ts';
import type { WrapTarget } from '../test/host/wrap/e2e-harness.ts';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '200' }, rounds: { type: 'string', default: '3' } } });
const calls = Number(values.calls);
const rounds = Number(values.rounds);

interface Target {
  readonly label: string;
  readonly wrap: WrapTarget;
  readonly tool: string;
  readonly args: (dirs: Readonly<Record<string, string>>) => Record<string, unknown>;
  readonly nativeArgs: (dirs: Readonly<Record<string, string>>) => string[];
  readonly nativeEnv: (dirs: Readonly<Record<string, string>>) => Record<string, string>;
  readonly setup?: (dirs: Readonly<Record<string, string>>) => void;
}

const TARGETS: readonly Target[] = [
  {
    label: 'server-sequential-thinking', tool: 'sequentialthinking',
    wrap: { spec: '@modelcontextprotocol/server-sequential-thinking@2026.8.31', lock: 'server-sequential-thinking' },
    args: () => ({ thought: 'a step', thoughtNumber: 1, totalThoughts: 1, nextThoughtNeeded: false }), nativeArgs: () => [], nativeEnv: () => ({ DISABLE_THOUGHT_LOGGING: 'true' }),
  },
  {
    label: 'server-memory', tool: 'search_nodes',
    wrap: { spec: '@modelcontextprotocol/server-memory@2026.8.31', lock: 'server-memory', grants: { memory: 'memory' }, wrapArgs: ['--fs', 'memory:write', '--env', 'MEMORY_FILE_PATH=${memory}/memory.jsonl'] },
    args: () => ({ query: 'x' }), nativeArgs: () => [], nativeEnv: (d) => ({ MEMORY_FILE_PATH: join(d.memory as string, 'native.jsonl') }),
  },
  {
    label: 'server-filesystem', tool: 'read_text_file',
    wrap: { spec: '@modelcontextprotocol/server-filesystem@2026.8.31', lock: 'server-filesystem', grants: { root: 'root' }, wrapArgs: ['--fs', 'root:read', '--arg', '${root}'] },
    setup: (d) => writeFileSync(join(d.root as string, 'a.txt'), 'hello\n'.repeat(100)),
    args: (d) => ({ path: join(d.root as string, 'a.txt') }), nativeArgs: (d) => [d.root as string], nativeEnv: () => ({}),
  },
  {
    label: 'server-everything', tool: 'echo',
    wrap: { spec: '@modelcontextprotocol/server-everything@2026.8.31', lock: 'server-everything' },
    args: () => ({ message: 'hi' }), nativeArgs: () => ['stdio'], nativeEnv: () => ({}),
  },
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const rows: Array<{ target: string; wrappedP50Us: number; nativeP50Us: number; ratio: number }> = [];
for (const t of TARGETS) {
  const w = await wrapAndInstall(t.wrap, `bench-${t.label}`);
  t.setup?.(w.dirs);
  const prefix = `${w.name}__`;
  const wrapped: Connected = await connect({ label: 'wrapped', command: process.execPath, args: [CLI, 'serve', '--home', w.home] });
  const native: Connected = await connect({ label: 'native', command: process.execPath, args: [w.mainFile, ...t.nativeArgs(w.dirs)], env: t.nativeEnv(w.dirs) });
  try {
    await call(wrapped, prefix + t.tool, t.args(w.dirs));
    await call(native, t.tool, t.args(w.dirs));
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [true, false] : [false, true];
      for (const isOurs of order) {
        if (isOurs) ours.push((await latency(wrapped, prefix + t.tool, t.args(w.dirs), calls)).p50);
        else theirs.push((await latency(native, t.tool, t.args(w.dirs), calls)).p50);
      }
    }
    rows.push({ target: t.label, wrappedP50Us: median(ours), nativeP50Us: median(theirs), ratio: median(ours) / median(theirs) });
  } finally {
    await disconnect(wrapped);
    await disconnect(native);
  }
}
const lines = ['| Target (tool) | wrapped p50 µs | native p50 µs | wrapped / native |', '| --- | ---: | ---: | ---: |'];
for (const r of rows) lines.push(`| ${r.target} | ${r.wrappedP50Us.toFixed(0)} | ${r.nativeP50Us.toFixed(0)} | ${r.ratio.toFixed(2)}× |`);
process.stdout.write(`${lines.join('\n')}\n`);
mkdirSync(join(import.meta.dirname), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results-wrap.json'), `${JSON.stringify({ calls, rounds, rows }, null, 2)}\n`);
