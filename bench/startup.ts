/**
 * The start-up figure alone, A/B: spawn to the first tools/list answer with N installed signed packages,
 * for one or more builds of mcp-warden (each its CLI entry: dist/host/bundle/cli.js, what the bin loads;
 * dist/host/cli.js for a build from before the bundle) and the plain baseline (same SDK, plain
 * JavaScript), alternating inside each round (the order rotates from round to round). Prints min/median/max
 * per server and each build's median ratio against the plain server's median; on Linux also the server's
 * CPU time to the answer (all its threads) and its main thread's alone (the thread the answer waits for),
 * steadier than the wall clock on a shared machine. Both are read when the first answer arrives, before the
 * rest of a paginated list is asked for (what the server does after its first answer is not counted).
 *
 *   node bench/startup.ts [--packages 50] [--rounds 9] [--cli A/dist/host/cli.js --cli B/dist/host/bundle/cli.js]
 *
 * Without --cli it measures this checkout's dist. The homes are built with this checkout's CLI.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI_BUNDLE } from '../scripts/cli-entry.ts';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ServerSpec } from './harness.ts';
import { installedHomes } from './installed.ts';

const here = import.meta.dirname;
const { values } = parseArgs({
  options: {
    packages: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '9' },
    cli: { type: 'string', multiple: true },
  },
});
const count = Number(values.packages);
const rounds = Number(values.rounds);
const clis = values.cli ?? [join(here, '..', ...CLI_BUNDLE)];
const home = (await installedHomes([count], ['http://127.0.0.1:1/']).then((m) => m.get(count)))!.home;
const specs: ServerSpec[] = [
  ...clis.map((cli) => ({ label: cli, command: process.execPath, args: [cli, 'serve', '--home', home, '--rate-limit', '1000000/s:1000000'] })),
  { label: 'plain', command: process.execPath, args: [join(here, 'baselines', 'mcp-server-v2.mjs'), '--packages', String(count)] },
];
const times = specs.map((): number[] => []);
// The server's CPU time (all its threads) to the answer, where Linux's /proc tells it: steadier than the
// wall clock on a machine shared with other work.
const cpuOf = (pid: number | null | undefined): number | undefined => {
  if (!pid || !existsSync(`/proc/${pid}/task`)) return undefined;
  try {
    return readdirSync(`/proc/${pid}/task`).reduce((ms, t) => ms + Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]) / 1e6, 0);
  } catch {
    return undefined;
  }
};
// The main thread's alone: Node's main thread has the process's id as its thread id.
const mainCpuOf = (pid: number | null | undefined): number | undefined => {
  if (!pid || !existsSync(`/proc/${pid}/task/${pid}/schedstat`)) return undefined;
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
};
const cpus = specs.map((): number[] => []);
const mainCpus = specs.map((): number[] => []);
/** Spawn to the first tools/list answer (its first page); the CPU figures read at that moment. */
async function start(spec: ServerSpec): Promise<{ startupMs: number; cpu?: number; main?: number; tools: number; close: () => Promise<unknown> }> {
  const started = performance.now();
  const transport = new StdioClientTransport({ command: spec.command, args: [...spec.args], env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...spec.env }, stderr: 'pipe' });
  transport.stderr?.on('data', () => undefined);
  const client = new Client({ name: 'warden-bench', version: '1.0.0' });
  await client.connect(transport);
  const list = await client.listTools();
  const startupMs = performance.now() - started;
  const cpu = cpuOf(transport.pid);
  const main = mainCpuOf(transport.pid);
  // The rest of the list (mcp-warden pages by 100), to check every package was served.
  let tools = list.tools.length;
  for (let cursor = list.nextCursor; cursor !== undefined; ) {
    const page = await client.listTools({ cursor });
    tools += page.tools.length;
    cursor = page.nextCursor;
  }
  return { startupMs, ...(cpu === undefined ? {} : { cpu }), ...(main === undefined ? {} : { main }), tools, close: () => client.close().catch(() => undefined) };
}

for (let r = 0; r < rounds; r++) {
  for (let j = 0; j < specs.length; j++) {
    const i = (j + r) % specs.length;
    const spec = specs[i] as ServerSpec;
    const c = await start(spec);
    if (spec.label !== 'plain' && c.tools !== 4 * count) throw new Error(`${spec.label} served ${c.tools} tools`);
    (times[i] as number[]).push(c.startupMs);
    if (c.cpu !== undefined) (cpus[i] as number[]).push(c.cpu);
    if (c.main !== undefined) (mainCpus[i] as number[]).push(c.main);
    await c.close();
  }
}
const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
const plain = median(times.at(-1) as number[]);
const plainCpu = (cpus.at(-1) as number[]).length === rounds ? median(cpus.at(-1) as number[]) : undefined;
const plainMain = (mainCpus.at(-1) as number[]).length === rounds ? median(mainCpus.at(-1) as number[]) : undefined;
for (const [i, spec] of specs.entries()) {
  const t = times[i] as number[];
  const m = median(t);
  const c = cpus[i] as number[];
  const mc = mainCpus[i] as number[];
  const main = plainMain !== undefined && mc.length === rounds ? `; main thread ${median(mc).toFixed(0)} ms, ${(median(mc) / plainMain).toFixed(2)}×` : '';
  const cpu = plainCpu !== undefined && c.length === rounds ? `; CPU median ${median(c).toFixed(0)} ms, ${(median(c) / plainCpu).toFixed(2)}× plain${main}` : '';
  console.log(`${spec.label}: median ${m.toFixed(0)} ms (min ${Math.min(...t).toFixed(0)}, max ${Math.max(...t).toFixed(0)}), ${(m / plain).toFixed(2)}× plain${cpu}`);
}
