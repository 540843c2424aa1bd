/**
 * Starts the built CLI (`node dist/host/cli.js serve …`) as a subprocess and connects the SDK's Client to
 * it over real stdio. Builds dist/ first when it is missing or older than the sources.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'host', 'cli.js');
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

/** Builds dist/ if it is missing or stale (the npm pretest builds too). A mkdir lock keeps parallel files from racing. */
export function ensureBuilt(): void {
  const fresh = () => existsSync(CLI) && statSync(CLI).mtimeMs >= Math.max(newestMtime(join(ROOT, 'host')), newestMtime(join(ROOT, 'runtime')));
  if (fresh()) return;
  const lock = join(ROOT, 'dist.build-lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error('timed out waiting for another build');
      execFileSync('sleep', ['0.5']);
    }
  }
  try {
    if (!fresh()) execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mcp-warden-${prefix}-`));
}

export interface HostHandle {
  readonly client: Client;
  readonly home: string;
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
    stderr: () => stderr,
    close: async () => {
      await client.close().catch(() => {});
    },
  };
}
