/**
 * Benchmark harness: drives an MCP server over real stdio with the SDK's Client and measures it.
 * Used by bench/run.ts (the full benchmark) and by the smoke test (a tiny workload).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ServerSpec {
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export interface Connected {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  /** Spawn to the first tools/list answer (its first page), ms. */
  readonly startupMs: number;
  readonly toolNames: readonly string[];
}

export async function connect(spec: ServerSpec): Promise<Connected> {
  const started = performance.now();
  const transport = new StdioClientTransport({
    command: spec.command,
    args: [...spec.args],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...spec.env },
    stderr: 'pipe',
  });
  // Keep the server's stderr drained (and quiet).
  transport.stderr?.on('data', () => undefined);
  const client = new Client({ name: 'warden-bench', version: '1.0.0' });
  await client.connect(transport);
  const list = await client.listTools();
  const startupMs = performance.now() - started;
  // The rest of a paginated list (mcp-warden pages by 100), after the start-up figure was taken.
  const toolNames = list.tools.map((t) => t.name);
  for (let cursor = list.nextCursor; cursor !== undefined; ) {
    const page = await client.listTools({ cursor });
    toolNames.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  }
  return { client, transport, startupMs, toolNames };
}

export async function disconnect(c: Connected): Promise<void> {
  await c.client.close().catch(() => undefined);
}

/** Calls a tool and fails loudly on a tool error: a benchmark of failures measures nothing. */
export async function call(c: Connected, name: string, args: Record<string, unknown>): Promise<void> {
  const r = await c.client.callTool({ name, arguments: args });
  if (r.isError === true) throw new Error(`${name} failed: ${JSON.stringify(r.content).slice(0, 300)}`);
}

export interface LatencyStats {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

/** p50, p99 and mean of latency samples (µs); sorts `samples` in place. */
function latencyStats(samples: number[]): LatencyStats {
  samples.sort((a, b) => a - b);
  return {
    p50: quantile(samples, 0.5),
    p99: quantile(samples, 0.99),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
  };
}

/** Sequential latencies of `n` calls, in µs. */
export async function latency(c: Connected, name: string, args: Record<string, unknown>, n: number): Promise<LatencyStats> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call(c, name, args);
    samples.push((performance.now() - t) * 1000);
  }
  return latencyStats(samples);
}

/**
 * Sequential latencies of `n` calls to each of `targets`, taking turns call by call (who goes first moves
 * on each turn), in µs: for calls long enough (milliseconds) that the machine's drift between one server's
 * block and the next would weigh on one side only.
 */
export async function latencyInTurns(targets: readonly { readonly c: Connected; readonly name: string }[], args: Record<string, unknown>, n: number): Promise<LatencyStats[]> {
  const samples: number[][] = targets.map(() => []);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < targets.length; j++) {
      const k = (i + j) % targets.length;
      const { c, name } = targets[k] as { c: Connected; name: string };
      const t = performance.now();
      await call(c, name, args);
      (samples[k] as number[]).push((performance.now() - t) * 1000);
    }
  }
  return samples.map(latencyStats);
}

/** Calls per second with `inFlight` calls outstanding at all times; with several tool names, lane i calls names[i % names.length]. */
export async function throughput(c: Connected, name: string | readonly string[], args: Record<string, unknown>, total: number, inFlight: number): Promise<number> {
  const names = typeof name === 'string' ? [name] : name;
  let next = 0;
  const started = performance.now();
  const lane = async (laneName: string) => {
    while (next < total) {
      next++;
      await call(c, laneName, args);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, (_, i) => lane(names[i % names.length] as string)));
  return total / ((performance.now() - started) / 1000);
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

export function median(values: readonly number[]): number {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

/** Resident memory of a process and all its descendants, in bytes (Linux /proc). */
export function treeRss(pid: number): number {
  let total = 0;
  const seen = new Set<number>();
  const visit = (p: number) => {
    if (seen.has(p)) return;
    seen.add(p);
    try {
      total += Number(readFileSync(`/proc/${p}/statm`, 'utf8').split(' ')[1]) * 4096;
    } catch {
      return;
    }
    for (const child of childrenOf(p)) visit(child);
  };
  visit(pid);
  return total;
}

/** Every descendant of a process (children, their children…), by pid (Linux `ps`). */
export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    for (const child of childrenOf(p)) {
      if (out.includes(child)) continue;
      out.push(child);
      visit(child);
    }
  };
  visit(pid);
  return out;
}

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** User + system CPU a process has used so far, µs (/proc/PID/stat utime + stime; 0 for a process gone). */
export function cpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which is in parentheses and may hold spaces): state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6;
  } catch {
    return 0;
  }
}

/** CPU so far of a process (`self`) and of all its descendants (`children`, summed over the live ones), µs. */
export function treeCpuUs(pid: number): { self: number; children: Map<number, number> } {
  return { self: cpuUs(pid), children: new Map(descendantsOf(pid).map((c) => [c, cpuUs(c)])) };
}

/** CPU spent between two treeCpuUs snapshots, µs; a descendant born in between counts from zero. */
export function cpuSpent(before: ReturnType<typeof treeCpuUs>, after: ReturnType<typeof treeCpuUs>): { self: number; children: number } {
  let children = 0;
  for (const [pid, us] of after.children) children += us - (before.children.get(pid) ?? 0);
  return { self: after.self - before.self, children };
}

function childrenOf(pid: number): number[] {
  try {
    const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
    return out
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

/** A figure measured on mcp-warden and on the two plain baselines, over several rounds. */
export interface Figure {
  readonly name: string;
  readonly unit: string;
  /** Lower is better (latency, memory) or higher (throughput). */
  readonly better: 'lower' | 'higher';
  readonly warden: readonly number[];
  /** The plain McpServer baseline (bench/baselines/mcp-server.mjs); empty when there is none. */
  readonly plain: readonly number[];
  /** The plain low-level Server baseline (bench/baselines/low-level-server.mjs); empty when there is none. */
  readonly lowLevel?: readonly number[];
  /**
   * How mcp-warden is set against a baseline: their ratio (default), or their difference where the
   * baseline's figure is near zero and a ratio would mean nothing (per-package memory slopes).
   */
  readonly compare?: 'ratio' | 'difference';
  readonly target?: string;
}

export interface Stat {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface FigureSummary {
  readonly name: string;
  readonly unit: string;
  readonly warden: Stat;
  readonly plain: Stat | null;
  readonly lowLevel: Stat | null;
  /** Medians: mcp-warden / baseline, for a 'ratio' figure with a baseline. */
  readonly ratio: number | null;
  readonly ratioLowLevel: number | null;
  /** Medians: mcp-warden − baseline, for a 'difference' figure with a baseline. */
  readonly difference: number | null;
  readonly differenceLowLevel: number | null;
  readonly target?: string;
}

export function summarize(f: Figure): FigureSummary {
  const s = (v: readonly number[]): Stat | null => (v.length === 0 ? null : { median: median(v), min: Math.min(...v), max: Math.max(...v) });
  const warden = s(f.warden);
  if (warden === null) throw new Error(`figure ${f.name} has no measurement`);
  const plain = s(f.plain);
  const lowLevel = s(f.lowLevel ?? []);
  const byRatio = (f.compare ?? 'ratio') === 'ratio';
  const ratio = (b: Stat | null) => (!byRatio || b === null || b.median === 0 ? null : warden.median / b.median);
  const difference = (b: Stat | null) => (byRatio || b === null ? null : warden.median - b.median);
  return {
    name: f.name,
    unit: f.unit,
    warden,
    plain,
    lowLevel,
    ratio: ratio(plain),
    ratioLowLevel: ratio(lowLevel),
    difference: difference(plain),
    differenceLowLevel: difference(lowLevel),
    target: f.target,
  };
}

export function formatTable(rows: readonly FigureSummary[]): string {
  const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));
  const cell = (v: Stat | null) => (v === null ? '—' : `${fmt(v.median)} (${fmt(v.min)}–${fmt(v.max)})`);
  const versus = (ratio: number | null, difference: number | null) =>
    ratio !== null ? `${ratio.toFixed(2)}×` : difference !== null ? `${difference >= 0 ? '+' : '−'}${fmt(Math.abs(difference))}` : '—';
  const lines = [
    '| Figure | Unit | mcp-warden median (min–max) | plain McpServer median (min–max) | vs McpServer | plain Server median (min–max) | vs Server | Target |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.name} | ${r.unit} | ${cell(r.warden)} | ${cell(r.plain)} | ${versus(r.ratio, r.difference)} | ${cell(r.lowLevel)} | ${versus(r.ratioLowLevel, r.differenceLowLevel)} | ${r.target ?? ''} |`,
    );
  }
  return lines.join('\n');
}
