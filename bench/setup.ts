/**
 * Benchmark fixtures: a home directory with N copies of the bench package (each its own name, so each
 * gets its own isolate), and the command lines of the two servers.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DETECTORS } from '../runtime/index.ts';
import { CLI_BUNDLE } from '../scripts/cli-entry.ts';
import type { ServerSpec } from './harness.ts';

const here = import.meta.dirname;
// The shipped CLI (what bin/mcp-warden.cjs loads): the bundled host.
let cli = join(here, '..', ...CLI_BUNDLE);

/** Benchmarks another build of mcp-warden (its dist/host/bundle/cli.js, or an older build's dist/host/cli.js), e.g. main's, to A/B a change. */
export function useCli(path: string): void {
  cli = path;
}

/** The plain McpServer baseline (SDK v2), serving the bench package's tools once. */
export function plainSpec(): ServerSpec {
  return { label: 'plain', command: process.execPath, args: [join(here, 'baselines', 'mcp-server-v2.mjs')] };
}

export interface BenchHome {
  readonly home: string;
  readonly packageDirs: readonly string[];
  readonly count: number;
}

/**
 * Creates a home with `count` copies of bench/package, named `<prefix>-0` … `<prefix>-(count-1)`
 * (bench-tools by default); `fresh` makes them ask for a fresh context per call; `dlpOff` turns every DLP
 * detector off in the home's config.json (docs/dlp.md), for the figures that set DLP's share apart.
 */
export async function prepareHome(count: number, netRules: readonly string[], options: { fresh?: boolean; prefix?: string; dlpOff?: boolean } = {}): Promise<BenchHome> {
  const prefix = options.prefix ?? 'bench-tools';
  const root = mkdtempSync(join(tmpdir(), `warden-bench-${count}-`));
  const home = join(root, 'home');
  mkdirSync(home);
  if (options.dlpOff) writeFileSync(join(home, 'config.json'), JSON.stringify({ dlp: { detectors: Object.fromEntries(DETECTORS.map((d) => [d, 'off'])) } }));
  const manifest = JSON.parse(readFileSync(join(here, 'package', 'package.json'), 'utf8')) as {
    name: string;
    mcpWarden: { capabilities: { net: string[] }; freshContextPerCall?: boolean };
  };
  manifest.mcpWarden.capabilities.net = [...netRules];
  if (options.fresh) manifest.mcpWarden.freshContextPerCall = true;
  const packageDirs: string[] = [];
  for (let i = 0; i < count; i++) {
    const dir = join(root, 'src', `${prefix}-${i}`);
    cpSync(join(here, 'package'), dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...manifest, name: `${prefix}-${i}` }, null, 2));
    packageDirs.push(dir);
  }
  return { home, packageDirs, count };
}

/** mcp-warden serving `h`; `build`: another build's CLI (an A/B's other side), this checkout's (or useCli's) by default. */
export function wardenSpec(h: BenchHome, extraArgs: readonly string[] = [], build: string = cli): ServerSpec {
  const args = [build, 'serve', '--home', h.home, '--rate-limit', '1000000/s:1000000', ...extraArgs];
  for (const dir of h.packageDirs) args.push('--dev', dir);
  return { label: 'mcp-warden', command: process.execPath, args };
}
