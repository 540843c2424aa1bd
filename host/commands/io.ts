/**
 * What a command may touch of its process: streams, environment and working directory, injected so tests
 * run commands in-process. stdout is for the command's output (the MCP protocol, for serve).
 */
import type { Readable, Writable } from 'node:stream';

export interface CommandIO {
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Standard input (serve reads the MCP protocol from it). Defaults to process.stdin. */
  readonly stdin?: Readable;
}

export interface Command {
  /** Runs the command; resolves to the process exit code (0 ok, 1 refusal/failure, 2 usage error). */
  run(argv: string[], io: CommandIO): Promise<number>;
}
