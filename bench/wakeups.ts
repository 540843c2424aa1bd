/**
 * Where a warm call's time goes between processes, from the scheduler (not part of `npm run bench`;
 * Linux, with `perf` allowed to record sched tracepoints system-wide: root, or perf_event_paranoid ≤ -1).
 * For mcp-warden and the plain McpServer in turn: warm-up calls, then `calls` sequential calls under
 * `perf record -e sched:sched_waking -a`, cut into hand-overs (bench/wake-trace.ts):
 *
 *   mcp-warden: client → host → worker → host → client     plain: client → server → client
 *
 * Each segment is one process's part, from being woken (its wake-up latency included) to waking the next;
 * the first starts with the client's request (a server still busy with the previous call is not woken by
 * it), the last is the client's, up to its next request. Also: the hand-overs per call that crossed CPUs,
 * and the wake-ups between a worker's own threads (its main thread and isolated-vm's).
 *
 *   node bench/wakeups.ts [--calls 2000] [--rounds 2] [--tool echo|transform] [--other path/to/other/dist/host/bundle/cli.js]
 *
 * --other adds a second mcp-warden build (an A/B), traced in the same rounds. --tool transform traces
 * bench/run.ts's 100 KB transform instead of the trivial call (its worker part then includes the tool).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { call, connect, descendantsOf, disconnect, latency, median } from './harness.ts';
import type { Connected, ServerSpec } from './harness.ts';
import { transformArgs } from './pipe-floor.ts';
import { plainSpec, prepareHome, wardenSpec } from './setup.ts';
import { callTraces, parseWakings, summarizeTraces } from './wake-trace.ts';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '2' }, tool: { type: 'string', default: 'echo' }, other: { type: 'string' } } });
if (values.tool !== 'echo' && values.tool !== 'transform') throw new Error('--tool expects echo or transform');
const toolSuffix = values.tool;
const toolArgs: Record<string, unknown> = toolSuffix === 'transform' ? transformArgs() : { text: 'hello' };
const calls = Number(values.calls);
const dir = mkdtempSync(join(tmpdir(), 'warden-wakeups-'));

const threadsOf = (pid: number): number[] => {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return [];
  }
};

/** Warm calls under perf; the hand-over segments of `chain` (roles by thread). */
async function traced(c: Connected, chain: readonly string[], file: string): Promise<{ p50: number; summary: ReturnType<typeof summarizeTraces> }> {
  const tool = c.toolNames.find((t) => t.endsWith(toolSuffix)) as string;
  const args = toolArgs;
  await latency(c, tool, args, 2000);
  const perf = spawn('perf', ['record', '-q', '-m', '8192', '-k', 'CLOCK_MONOTONIC', '-e', 'sched:sched_waking', '-a', '-o', file], { stdio: 'ignore' });
  const exited = new Promise((resolve) => perf.on('exit', resolve));
  // Calls while perf starts: a call it missed part of is left out by callTraces.
  await latency(c, tool, args, 500);
  // Each call's start, and the last one's end (seconds; process.hrtime is CLOCK_MONOTONIC, as the trace's).
  const starts: number[] = [];
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t = process.hrtime.bigint();
    starts.push(Number(t) / 1e9);
    await call(c, tool, args);
    times.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  starts.push(Number(process.hrtime.bigint()) / 1e9);
  const server = c.transport.pid as number;
  const roles = new Map<number, string>();
  for (const t of threadsOf(process.pid)) roles.set(t, 'client');
  for (const t of threadsOf(server)) roles.set(t, chain.length > 3 ? 'host' : 'server');
  for (const w of descendantsOf(server)) for (const t of threadsOf(w)) roles.set(t, 'worker');
  perf.kill('SIGINT');
  await exited;
  const text = execFileSync('perf', ['script', '-i', file, '-F', 'pid,tid,cpu,time,event,trace'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const summary = summarizeTraces(callTraces(parseWakings(text), starts, (tid) => roles.get(tid), chain, ['worker']));
  return { p50: median(times), summary };
}

interface Traced {
  readonly label: string;
  readonly spec: ServerSpec;
  readonly chain: string[];
  readonly parts: string[];
}
/** An mcp-warden build (this checkout's, or `cli`) and the hand-overs of its calls. */
const warden = async (label: string, cli?: string): Promise<Traced> => ({
  label,
  spec: cli === undefined ? wardenSpec(await prepareHome(1, []), []) : wardenSpec(await prepareHome(1, []), [], cli),
  chain: ['client', 'host', 'worker', 'host', 'client'],
  parts: ["the client's request and the host, until the host wakes the worker", 'worker, until it wakes the host', 'host, until it wakes the client', 'client, until its next request'],
});
const servers: Traced[] = [
  await warden('mcp-warden'),
  ...(values.other === undefined ? [] : [await warden('other build', values.other)]),
  { label: 'plain McpServer', spec: plainSpec(), chain: ['client', 'server', 'client'], parts: ['the client\'s request and the server, until the server wakes the client', 'client, until its next request'] },
];
try {
  for (let r = 0; r < Number(values.rounds); r++) {
    for (let j = 0; j < servers.length; j++) {
      const s = servers[(j + r) % servers.length] as Traced;
      const c = await connect(s.spec);
      const { p50, summary } = await traced(c, s.chain, join(dir, 'perf.data'));
      await disconnect(c);
      console.log(`${s.label} (round ${r + 1}): p50 ${p50.toFixed(0)} µs over ${calls} calls, ${summary.calls} traced whole`);
      s.parts.forEach((p, i) => console.log(`  ${(summary.segmentsUs[i] as number).toFixed(0).padStart(6)} µs  ${p}`));
      console.log(`  hand-overs across CPUs per call: ${summary.crossCpu.toFixed(2)} of ${s.chain.length - 1}` + (s.chain.includes('worker') ? `; wake-ups between a worker's own threads: ${summary.inner.toFixed(1)}` : ''));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
