/**
 * `mcp-warden serve` spoken to line by line over real stdio, for tests that send what no SDK client
 * sends (forged state, raw envelopes, odd ids). Answers are kept by id; waiting is on the host's output
 * (or its exit), never on a timer.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { ensureBuilt } from './host.ts';

export class RawHost {
  readonly child: ChildProcessWithoutNullStreams;
  readonly byId = new Map<unknown, Record<string, unknown>>();
  #buffer = '';
  #waiters: (() => void)[] = [];

  /** Starts `node ARGS` (the built CLI and its serve arguments); `closers` gets the function that stops it. */
  constructor(args: readonly string[], env: Record<string, string>, closers: (() => Promise<unknown>)[]) {
    ensureBuilt();
    this.child = spawn(process.execPath, args, { env, stdio: 'pipe' });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (text: string) => {
      this.#buffer += text;
      let nl: number;
      while ((nl = this.#buffer.indexOf('\n')) >= 0) {
        const msg = JSON.parse(this.#buffer.slice(0, nl)) as Record<string, unknown>;
        this.#buffer = this.#buffer.slice(nl + 1);
        if (msg.id !== undefined) this.byId.set(msg.id, msg);
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    this.child.on('exit', () => {
      for (const w of this.#waiters.splice(0)) w();
    });
    closers.push(async () => {
      this.child.stdin.end();
      this.child.kill();
    });
  }

  /** Writes a message (an object gets `jsonrpc`; a string is written as is) and waits for the answer to `id`. */
  async ask(message: Record<string, unknown> | string, id?: unknown): Promise<Record<string, unknown>> {
    this.child.stdin.write(`${typeof message === 'string' ? message : JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
    return this.answer(typeof message === 'string' ? id : message.id);
  }

  /** The answer to request `id`, once it arrived. @throws when the host exits first */
  async answer(id: unknown): Promise<Record<string, unknown>> {
    while (!this.byId.has(id)) {
      if (this.child.exitCode !== null) throw new Error('host exited');
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    return this.byId.get(id) as Record<string, unknown>;
  }
}
