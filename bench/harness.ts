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
  /** Spawn to first tools/list answer, ms. */
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
  return { client, transport, startupMs, toolNames: list.tools.map((t) => t.name) };
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

/** Sequential latencies of `n` calls, in µs. */
export async function latency(c: Connected, name: string, args: Record<string, unknown>, n: number): Promise<LatencyStats> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call(c, name, args);
    samples.push((performance.now() - t) * 1000);
  }
  samples.sort((a, b) => a - b);
  return {
    p50: quantile(samples, 0.5),
    p99: quantile(samples, 0.99),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
  };
}

/** Calls per second with `inFlight` calls outstanding at all times. */
export async function throughput(c: Connected, name: string, args: Record<string, unknown>, total: number, inFlight: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    while (next < total) {
      next++;
      await call(c, name, args);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
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

/** A figure measured on both servers, over several rounds. */
export interface Figure {
  readonly name: string;
  readonly unit: string;
  /** Lower is better (latency, memory) or higher (throughput). */
  readonly better: 'lower' | 'higher';
  readonly warden: readonly number[];
  readonly plain: readonly number[];
  readonly target?: string;
}

export interface FigureSummary {
  readonly name: string;
  readonly unit: string;
  readonly warden: { median: number; min: number; max: number };
  readonly plain: { median: number; min: number; max: number } | null;
  readonly ratio: number | null;
  readonly target?: string;
}

export function summarize(f: Figure): FigureSummary {
  const s = (v: readonly number[]) => ({ median: median(v), min: Math.min(...v), max: Math.max(...v) });
  const plain = f.plain.length > 0 ? s(f.plain) : null;
  const warden = s(f.warden);
  return {
    name: f.name,
    unit: f.unit,
    warden,
    plain,
    ratio: plain === null || plain.median === 0 ? null : warden.median / plain.median,
    target: f.target,
  };
}

export function formatTable(rows: readonly FigureSummary[]): string {
  const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));
  const cell = (v: { median: number; min: number; max: number } | null) => (v === null ? '—' : `${fmt(v.median)} (${fmt(v.min)}–${fmt(v.max)})`);
  const lines = [
    '| Figure | Unit | mcp-warden median (min–max) | plain median (min–max) | Ratio | Target |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${r.unit} | ${cell(r.warden)} | ${cell(r.plain)} | ${r.ratio === null ? '—' : r.ratio.toFixed(2)} | ${r.target ?? ''} |`);
  }
  return lines.join('\n');
}
