/**
 * npm run bench: mcp-warden against a plain, unsandboxed MCP server running the same tool logic
 * in-process, both driven the same way in the same run by the SDK's Client over stdio.
 * Prints a table (medians over rounds, with min–max, and the ratio warden/plain) and writes
 * bench/results.json.
 *
 *   node bench/run.ts [--quick | --smoke] [--rounds N] [--out FILE]
 *
 * --quick runs a small workload. --smoke runs a handful of calls per figure on one connection per server
 * kind (its numbers mean nothing; it proves every figure is still produced): the test suite's smoke test.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { call, connect, disconnect, formatTable, latency, summarize, throughput, treeRss } from './harness.ts';
import type { Connected, Figure, FigureSummary, ServerSpec } from './harness.ts';
import { prepareHome, wardenSpec as wardenServer } from './setup.ts';
import type { BenchHome } from './setup.ts';
import { pipeRoundTripUs } from './pipe-floor.ts';
import { verificationFigures } from './verification.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    out: { type: 'string', default: join(import.meta.dirname, 'results.json') },
  },
});
const smoke = values.smoke === true;
const quick = values.quick === true || smoke;
const mode = smoke ? 'smoke' : quick ? 'quick' : 'full';
const rounds = Number(values.rounds ?? (quick ? 1 : 5));
const N = smoke
  ? { warm: 3, work: 1, seq: 3, par: 32, startup: 1, packages: 2, fetch: 1, verify: 1, warmUp: 1, coldWarm: 1, floor: 20 }
  : quick
    ? { warm: 20, work: 5, seq: 20, par: 64, startup: 1, packages: 3, fetch: 5, verify: 2, warmUp: 5, coldWarm: 50, floor: 200 }
    : { warm: 1000, work: 100, seq: 1000, par: 3000, startup: 5, packages: 50, fetch: 300, verify: 20, warmUp: 300, coldWarm: 50, floor: 3000 };

// In smoke mode each server kind is started once (with one sandbox worker) and shared by every figure:
// starting servers is what costs. Its "1 package" figures are then taken on the N-package server; the
// report says so (mode: smoke). Otherwise every section starts its own servers.
const SMOKE_NOTE = 'smoke run: a handful of calls per figure, one server of each kind for all of them; not measurements';
const shared = new Map<string, Promise<Connected>>();
function open(spec: ServerSpec): Promise<Connected> {
  if (!smoke) return connect(spec);
  const key = JSON.stringify([spec.command, spec.args]);
  let c = shared.get(key);
  if (c === undefined) {
    c = connect(spec);
    shared.set(key, c);
  }
  return c;
}
async function close(c: Connected): Promise<void> {
  if (!smoke) await disconnect(c);
}

const here = import.meta.dirname;
const plainSpec = (packages: number): ServerSpec => ({
  label: 'plain',
  command: process.execPath,
  args: [join(here, 'plain-server.ts'), '--packages', String(smoke ? N.packages : packages)],
});
const wardenSpec = (h: BenchHome): ServerSpec => wardenServer(h, smoke ? ['--workers', '1'] : []);

// ~100 KB of JSON for the "real work" tool.
const rows = Array.from({ length: 900 }, (_, i) => ({ id: i, name: `row-${i}-${'x'.repeat(40)}`, items: [i, i + 1, i + 2, i * 3] }));
const workArgs = { json: JSON.stringify(rows) };

const figures: Figure[] = [];
function record(name: string, unit: string, better: 'lower' | 'higher', warden: number[], plain: number[], target?: string): void {
  figures.push({ name, unit, better, warden, plain, target });
}

async function main(): Promise<void> {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(`bench: ${mode} run, ${rounds} round(s)`);

  // Local HTTP server for the gated fetch figure; the bench package's grant names exactly it.
  const api = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ items: Array.from({ length: 50 }, (_, i) => ({ i })) }));
  });
  await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
  const apiPort = (api.address() as AddressInfo).port;
  const apiUrl = `http://127.0.0.1:${apiPort}/items`;

  const many = await prepareHome(N.packages, [`http://127.0.0.1:${apiPort}`]);
  // A smoke run starts one server of each kind, on the N-package home, for every figure (see the header).
  const one = smoke ? many : await prepareHome(1, [`http://127.0.0.1:${apiPort}`]);
  // The same package asking for a fresh context per call (what `grant NAME --fresh` forces).
  const freshHome = await prepareHome(1, [`http://127.0.0.1:${apiPort}`], { fresh: true, prefix: 'bench-fresh' });

  const warm = { p50: { w: [] as number[], p: [] as number[] }, p99: { w: [] as number[], p: [] as number[] } };
  const freshP50: number[] = [];
  const work = { p50: { w: [] as number[], p: [] as number[] }, p99: { w: [] as number[], p: [] as number[] } };
  const seq = { w: [] as number[], p: [] as number[] };
  const par = { w: [] as number[], p: [] as number[] };
  const fetchLat = { w: [] as number[], p: [] as number[] };
  const cold = { w: [] as number[], warmRef: [] as number[] };

  for (let r = 0; r < rounds; r++) {
    log(`round ${r + 1}/${rounds}: warm calls`);
    const w = await open(wardenSpec(one));
    const p = await open(plainSpec(1));
    const wEcho = toolName(w, 'echo');
    const pEcho = toolName(p, 'echo');
    await warmUp(w, wEcho, p, pEcho);
    for (const [c, name, bag] of [
      [w, wEcho, 'w'],
      [p, pEcho, 'p'],
    ] as const) {
      const s = await latency(c, name, { text: 'hello' }, N.warm);
      warm.p50[bag].push(s.p50);
      warm.p99[bag].push(s.p99);
    }
    for (const [c, name, bag] of [
      [w, toolName(w, 'transform'), 'w'],
      [p, toolName(p, 'transform'), 'p'],
    ] as const) {
      await call(c, name, workArgs);
      const s = await latency(c, name, workArgs, N.work);
      work.p50[bag].push(s.p50);
      work.p99[bag].push(s.p99);
    }
    seq.w.push(await throughput(w, wEcho, { text: 'x' }, N.seq, 1));
    seq.p.push(await throughput(p, pEcho, { text: 'x' }, N.seq, 1));
    par.w.push(await throughput(w, wEcho, { text: 'x' }, N.par, 32));
    par.p.push(await throughput(p, pEcho, { text: 'x' }, N.par, 32));
    for (const [c, bag] of [
      [w, 'w'],
      [p, 'p'],
    ] as const) {
      const name = toolName(c, 'fetchJson');
      await call(c, name, { url: apiUrl });
      const s = await latency(c, name, { url: apiUrl }, N.fetch);
      fetchLat[bag].push(s.p50);
    }
    await close(w);
    await close(p);

    // Fresh context per call: each call gets a new context, served from one bootstrapped ahead of time.
    const f = await open(wardenSpec(freshHome));
    const fEcho = toolName(f, 'echo');
    for (let i = 0; i < N.warmUp; i++) await call(f, fEcho, { text: 'warm' });
    freshP50.push((await latency(f, fEcho, { text: 'hello' }, N.warm)).p50);
    await close(f);
  }

  record('Warm call p50, fresh context per call', 'µs', 'lower', freshP50, warm.p50.p, 'warden fresh − warden warm ≤ 1 ms');
  record('Warm call p50, trivial tool', 'µs', 'lower', warm.p50.w, warm.p50.p, '≤ 1.4 and ≤ +100 µs');
  record('Warm call p99, trivial tool', 'µs', 'lower', warm.p99.w, warm.p99.p, '≤ 2');
  record('Warm call p50, 100 KB JSON transform + hash', 'µs', 'lower', work.p50.w, work.p50.p, '≤ 1.4');
  record('Warm call p99, 100 KB JSON transform + hash', 'µs', 'lower', work.p99.w, work.p99.p, '≤ 2');
  record('Throughput, sequential', 'calls/s', 'higher', seq.w, seq.p, '≥ 0.8');
  record('Throughput, 32 in flight', 'calls/s', 'higher', par.w, par.p, '≥ 0.8');
  record('Gated fetch to 127.0.0.1, p50', 'µs', 'lower', fetchLat.w, fetchLat.p, '≤ 1.2');

  log('cold packages');
  // The first call to a package whose isolate does not exist yet, in a server that is up (its worker
  // processes started in the background) and has served other packages: what remains is the isolate.
  for (let r = 0; r < rounds; r++) {
    const w = await open(wardenSpec(many));
    await settle();
    const names = w.toolNames.filter((n) => n.endsWith('__echo')).sort();
    for (let i = 0; i < N.coldWarm; i++) await call(w, names[0] as string, { text: 'warm' });
    for (const name of names.slice(1, Math.min(names.length, 11))) {
      let t = performance.now();
      await call(w, name, { text: 'cold' });
      cold.w.push((performance.now() - t) * 1000);
      t = performance.now();
      await call(w, name, { text: 'warm' });
      cold.warmRef.push((performance.now() - t) * 1000);
    }
    await close(w);
  }
  record('First call to a package with no isolate yet', 'µs', 'lower', cold.w, [], 'cold − warm ≤ 10 ms');
  record('  second call to the same package', 'µs', 'lower', cold.warmRef, []);

  log('startup');
  const start1 = { w: [] as number[], p: [] as number[] };
  const start50 = { w: [] as number[], p: [] as number[] };
  for (let r = 0; r < Math.max(rounds, N.startup); r++) {
    for (const [spec, bag] of [
      [wardenSpec(one), start1.w],
      [plainSpec(1), start1.p],
      [wardenSpec(many), start50.w],
      [plainSpec(N.packages), start50.p],
    ] as const) {
      const c = await open(spec);
      bag.push(c.startupMs);
      await close(c);
    }
  }
  record('Startup to first tools/list, 1 package', 'ms', 'lower', start1.w, start1.p);
  record(`Startup to first tools/list, ${N.packages} packages (--dev)`, 'ms', 'lower', start50.w, start50.p, '≤ 1.3');

  log('memory');
  // Resident memory of the whole process tree (host + sandbox workers), with 1 and with N packages, idle
  // and after one call to each. The per-package cost is the slope between the two homes, so the fixed
  // cost of the worker processes is not charged to packages.
  const mem = { idle1: { w: [] as number[], p: [] as number[] }, idleN: { w: [] as number[], p: [] as number[] } };
  const memUsed = { used1: { w: [] as number[], p: [] as number[] }, usedN: { w: [] as number[], p: [] as number[] } };
  for (let r = 0; r < Math.min(rounds, 3); r++) {
    for (const [home, count, idleBag, usedBag] of [
      [one, 1, mem.idle1, memUsed.used1],
      [many, N.packages, mem.idleN, memUsed.usedN],
    ] as const) {
      const w = await open(wardenSpec(home));
      const p = await open(plainSpec(count));
      await settle();
      idleBag.w.push(treeRss(pidOf(w)) / 1048576);
      idleBag.p.push(treeRss(pidOf(p)) / 1048576);
      for (const name of w.toolNames.filter((n) => n.endsWith('__echo'))) await call(w, name, { text: 'x' });
      for (const name of p.toolNames.filter((n) => n.endsWith('__echo'))) await call(p, name, { text: 'x' });
      await settle();
      usedBag.w.push(treeRss(pidOf(w)) / 1048576);
      usedBag.p.push(treeRss(pidOf(p)) / 1048576);
      await close(w);
      await close(p);
    }
  }
  record('Resident memory, 1 package idle (host + workers)', 'MiB', 'lower', mem.idle1.w, mem.idle1.p);
  record(`Resident memory, ${N.packages} packages idle (host + workers)`, 'MiB', 'lower', mem.idleN.w, mem.idleN.p);
  record(`Resident memory, ${N.packages} packages after one call each`, 'MiB', 'lower', memUsed.usedN.w, memUsed.usedN.p);
  const slope = (a: number[], b: number[]) => a.map((v, i) => (v - (b[i] ?? 0)) / Math.max(1, N.packages - 1));
  record('  per package, idle', 'MiB', 'lower', slope(mem.idleN.w, mem.idle1.w), slope(mem.idleN.p, mem.idle1.p), '≤ 4');
  record('  per package, after one call', 'MiB', 'lower', slope(memUsed.usedN.w, memUsed.used1.w), slope(memUsed.usedN.p, memUsed.used1.p), '≤ 8');

  log('floor');
  const floor: number[] = [];
  for (let r = 0; r < rounds; r++) floor.push(await pipeRoundTripUs(N.floor));
  record('Floor: bare round trip to a child process (socketpair, no work)', 'µs', 'lower', floor, [], 'what any process-isolated call pays');

  log('verification');
  for (const f of await verificationFigures(N.verify)) figures.push(f);

  for (const c of shared.values()) await disconnect(await c);
  api.close();
  const summary: FigureSummary[] = figures.map(summarize);
  const table = formatTable(summary);
  process.stdout.write(`${table}\n`);
  writeFileSync(
    values.out as string,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, mode, quick, rounds, ...(smoke ? { note: SMOKE_NOTE } : {}), figures: summary }, null, 2)}\n`,
  );
  const own = process.cpuUsage();
  log(`results written to ${values.out} (CPU of the bench process itself: ${Math.round((own.user + own.system) / 1000)} ms)`);
}

function toolName(c: Connected, suffix: string): string {
  const name = c.toolNames.find((n) => n.endsWith(`__${suffix}`));
  if (name === undefined) throw new Error(`no tool ending in __${suffix} among ${c.toolNames.join(', ')}`);
  return name;
}

function pidOf(c: Connected): number {
  const pid = c.transport.pid;
  if (pid === null) throw new Error('server has no pid');
  return pid;
}

async function warmUp(w: Connected, wName: string, p: Connected, pName: string): Promise<void> {
  for (let i = 0; i < N.warmUp; i++) {
    await call(w, wName, { text: 'warm' });
    await call(p, pName, { text: 'warm' });
  }
}

/** Lets background work (worker start-up, GC) finish before a measurement; nothing to wait for in a smoke run. */
function settle(): Promise<void> {
  if (smoke) return Promise.resolve();
  return new Promise((r) => setTimeout(r, quick ? 50 : 500));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
