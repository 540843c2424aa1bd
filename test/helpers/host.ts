/**
 * Starts the built CLI (`node dist/host/bundle/cli.js serve …`, what bin/mcp-warden.cjs loads) as a subprocess and connects the SDK's Client to
 * it over real stdio. Builds dist/ first when it is missing or older than the sources.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CLI_BUNDLE } from '../../scripts/cli-entry.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
/** The shipped CLI: the bundle of the compiled host (scripts/bundle-host.ts), what the bin loads. */
export const CLI = join(ROOT, ...CLI_BUNDLE);
export const EXAMPLES = join(ROOT, 'tool-packages');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'packages');

function newestMtime(dir: string): number {
  let max = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    max = Math.max(max, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return max;
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

/**
 * Builds dist/ if it is missing or older than the sources. The suite's globalSetup calls it once before
 * any test file starts (and `npm test` builds first), so test files normally find dist/ fresh. When a
 * source changes during a run, files may build at once: each builds into its own directory and moves
 * every file into dist/ with an atomic rename (the bundle's entry, the freshness mark, last), so nobody waits on a
 * lock and a CLI started meanwhile never reads a half-written file.
 */
export function ensureBuilt(): void {
  const fresh = () => existsSync(CLI) && existsSync(join(ROOT, 'dist', 'host', 'cli.js')) && existsSync(join(ROOT, 'dist', 'runtime', 'worker', 'bootstrap')) && existsSync(join(ROOT, 'dist', 'host', 'home', 'lock.validate.cjs')) && statSync(CLI).mtimeMs >= Math.max(newestMtime(join(ROOT, 'host')), newestMtime(join(ROOT, 'runtime')));
  if (fresh()) return;
  const dist = join(ROOT, 'dist');
  mkdirSync(dist, { recursive: true });
  const out = mkdtempSync(join(dist, '.build-'));
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
    // The same second step as `npm run build`: the isolate bootstrap is plain JavaScript tsc does not copy.
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'copy-bootstrap.ts'), out], { stdio: 'inherit' });
    // And the third: our own schemas' validators, precompiled (host/home/precompiled.ts).
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'compile-validators.ts'), out], { stdio: 'inherit' });
    // And the fourth: the host bundled into one module and its lazy chunks (what the bin loads).
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle-host.ts'), out], { stdio: 'inherit' });
    // The bundle's chunks before its entry, the entry last (the freshness mark).
    const entry = join(out, ...CLI_BUNDLE.slice(1));
    const files = filesUnder(out).sort((a, b) => Number(a === entry) - Number(b === entry));
    for (const file of files) {
      const target = join(dist, relative(out, file));
      mkdirSync(dirname(target), { recursive: true });
      renameSync(file, target);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mcp-warden-${prefix}-`));
}

export interface HostHandle {
  readonly client: Client;
  readonly home: string;
  /** The serve process's id. */
  readonly pid: number;
  stderr(): string;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly args?: readonly string[];
  readonly home?: string;
  readonly env?: Record<string, string>;
}

/** A minimal environment for the child: PATH and HOME only, plus what the test adds. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...extra };
}

export async function startHost(options: StartOptions = {}): Promise<HostHandle> {
  ensureBuilt();
  const home = options.home ?? tempDir('home');
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', '--home', home, '--workers', '2', ...(options.args ?? [])],
    env: childEnv(options.env),
    stderr: 'pipe',
    cwd: ROOT,
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const client = new Client({ name: 'mcp-warden-test', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    home,
    pid: transport.pid as number,
    stderr: () => stderr,
    close: async () => {
      await client.close().catch(() => {});
    },
  };
}
