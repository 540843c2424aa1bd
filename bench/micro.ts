/**
 * A focused micro-benchmark for iteration (not part of `npm run bench`): warm trivial calls (latency,
 * CPU per call of the server and of its workers, and 32-in-flight throughput) against mcp-warden, the
 * plain McpServer and optionally a second mcp-warden build (`--other DIST_CLI`, e.g. the previous commit's
 * dist/host/bundle/cli.js, or dist/host/cli.js before the bundle), taking turns block by block so that a loaded machine weighs on all of them alike.
 *
 *   node bench/micro.ts [--n 2000] [--blocks 4] [--workers N] [--packages N] [--other path/to/dist/host/bundle/cli.js] [--tool echo|transform|rows|fetchJson]
 *                       [--warm 300] [--prof DIR]   (a CPU profile of mcp-warden's host process, written to DIR)
 *                       [--node-options='--max-semi-space-size=32 --import=/path/probe.mjs'] [--cli dist/host/cli.js]
 *
 * --node-options is NODE_OPTIONS for every server process (mcp-warden's host, the other build's, the plain
 * server; not mcp-warden's workers, which get an environment of their own), with BENCH_LABEL set to the
 * server's label (warden, other, plain): for V8 flags or a preload that records the host's garbage
 * collection.
 *
 * --packages N serves N copies of the bench package (each its own isolate; with --workers N, each on a
 * worker of its own) and adds `tputSpread`: 32 in flight spread over the N copies, beside `tput`, 32 in
 * flight to the first copy alone: what spreading one hot package's calls over several workers would give
 * (mcp-warden only; the plain server serves one copy).
 *
 * --tool fetchJson is bench/run.ts's gated fetch figure: a fetch through the tool's `ctx.fetch` (mcp-warden:
 * with its grant, which names exactly a 127.0.0.1 server this script starts) against the plain server's fetch.
 */
import { parseArgs } from 'node:util';
import { connect, cpuSpent, disconnect, latency, median, throughput, treeCpuUs } from './harness.ts';
import type { Connected, ServerSpec } from './harness.ts';
import { startFetchTarget } from './fetch-target.ts';
import { transformArgs } from './pipe-floor.ts';
import { plainSpec, prepareHome, useCli, wardenSpec } from './setup.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    blocks: { type: 'string', default: '4' },
    workers: { type: 'string' },
    packages: { type: 'string', default: '1' },
    other: { type: 'string' },
    tool: { type: 'string', default: 'echo' },
    prof: { type: 'string' },
    // Warm-up calls per server before the blocks (fewer for the ~1 MB rows tool).
    warm: { type: 'string', default: '300' },
    'node-options': { type: 'string' },
    // This checkout's host as another entry than the bundle: dist/host/cli.js (tsc's output), whose files
    // bench/profile-breakdown.ts sorts a profile by.
    cli: { type: 'string' },
  },
});
if (values.cli !== undefined) useCli(values.cli);
const n = Number(values.n);
// The same local server as bench/run.ts's gated fetch figure; the package's grant names exactly it.
const { origin: apiOrigin, url: apiUrl, close: closeApi } = await startFetchTarget();
const packages = Number(values.packages);
const home = await prepareHome(packages, [apiOrigin]);
const extra = values.workers === undefined ? [] : ['--workers', values.workers];
const specs: Record<string, ServerSpec> = {
  warden: ((w: ServerSpec) => (values.prof === undefined ? w : { ...w, args: ['--cpu-prof', `--cpu-prof-dir=${values.prof}`, ...w.args] }))(wardenSpec(home, extra)),
  plain: plainSpec(),
};
if (values.other !== undefined) specs.other = wardenSpec(await prepareHome(packages, [apiOrigin]), extra, values.other);
const kinds = Object.keys(specs);
const nodeOptions = values['node-options'];
if (nodeOptions !== undefined) {
  for (const k of kinds) {
    const s = specs[k] as ServerSpec;
    specs[k] = { ...s, env: { ...s.env, NODE_OPTIONS: nodeOptions, BENCH_LABEL: k } };
  }
}
const conns: Record<string, Connected> = {};
for (const k of kinds) conns[k] = await connect(specs[k] as ServerSpec);
// The same ~100 KB rows as bench/run.ts's transform figure.
// rows: a ~1 MB result (25 000 rows) from a small input.
const args =
  values.tool === 'transform'
    ? transformArgs()
    : values.tool === 'rows'
      ? { n: 25_000 }
      : values.tool === 'fetchJson'
        ? { url: apiUrl }
        : { text: 'hello' };
// The first copy's tool (bench-tools-0), and every copy's.
const tools = (k: string) => (conns[k] as Connected).toolNames.filter((t) => t.endsWith(values.tool as string)).sort();
const tool = (k: string) => tools(k)[0] as string;
const out: Record<string, Record<string, number[]>> = {};
for (const k of kinds) {
  out[k] = { p50: [], p99: [], tput: [], ...(tools(k).length > 1 ? { tputSpread: [] } : {}), cpuHost: [], cpuWorkers: [] };
  await latency(conns[k] as Connected, tool(k), args, Number(values.warm));
}
for (let b = 0; b < Number(values.blocks); b++) {
  for (let i = 0; i < kinds.length; i++) {
    const k = kinds[(i + b) % kinds.length] as string;
    const c = conns[k] as Connected;
    const pid = c.transport.pid as number;
    const before = treeCpuUs(pid);
    const s = await latency(c, tool(k), args, n);
    const spent = cpuSpent(before, treeCpuUs(pid));
    const o = out[k] as Record<string, number[]>;
    o.p50!.push(Math.round(s.p50));
    o.p99!.push(Math.round(s.p99));
    o.cpuHost!.push(Math.round(spent.self / n));
    o.cpuWorkers!.push(Math.round(spent.children / n));
    // With --packages, the two throughputs take turns going first, block by block.
    const spread = async () => {
      if (tools(k).length > 1) o.tputSpread!.push(Math.round(await throughput(c, tools(k), args, n, 32)));
    };
    if (b % 2 === 1) await spread();
    o.tput!.push(Math.round(await throughput(c, tool(k), args, n, 32)));
    if (b % 2 === 0) await spread();
  }
}
for (const k of kinds) await disconnect(conns[k] as Connected);
closeApi();
for (const k of kinds) {
  const o = out[k] as Record<string, number[]>;
  process.stdout.write(`${k.padEnd(7)} ${Object.entries(o).map(([f, v]) => `${f} ${median(v)} [${v.join(' ')}]`).join('  ')}\n`);
}
