/**
 * Runs the built CLI (`node dist/host/bundle/cli.js …`, what the bin loads) as a child process, as a user or a script would.
 * Asynchronous: a test may serve (a Sigstore stack, an HTTP API) from its own event loop meanwhile.
 */
import { spawn } from 'node:child_process';
import { CLI, childEnv, ensureBuilt } from './host.ts';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function cli(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliRun> {
  ensureBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Runs the CLI and fails the test unless it exits 0. */
export async function cliOk(args: readonly string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliRun> {
  const r = await cli(args, options);
  if (r.code !== 0) throw new Error(`mcp-warden ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r;
}
