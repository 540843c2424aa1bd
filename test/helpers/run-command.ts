/** Runs a command module in-process with captured streams. */
import { PassThrough } from 'node:stream';
import type { CommandIO } from '../../host/commands/io.ts';

export interface CommandRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCommandModule(
  mod: { run(argv: string[], io: CommandIO): Promise<number> },
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CommandRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await mod.run(argv, { stdout, stderr, env: options.env ?? {}, cwd: options.cwd ?? process.cwd(), stdin: new PassThrough() });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
