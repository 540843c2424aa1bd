/**
 * The passphrase of a publisher's private key: MCP_WARDEN_KEY_PASSPHRASE, else a prompt on a terminal
 * (input not echoed), else none. Never a command-line flag: argv is visible to every local user.
 *
 * The prompt is the `read` library's (npm's own): with `silent` on a terminal it sets raw mode and reads
 * character by character, so the prompt stays on the screen and nothing typed is echoed.
 */
import type { Readable } from 'node:stream';
import { read } from 'read';
import type { CommandIO } from './io.ts';

export const PASSPHRASE_ENV = 'MCP_WARDEN_KEY_PASSPHRASE';

async function ask(input: Readable, io: CommandIO, prompt: string): Promise<string> {
  try {
    const answer = await read({ prompt, silent: true, replace: '', input, output: io.stderr as NodeJS.WritableStream, terminal: true });
    // Silent input ends without a newline: without one the next line would overwrite the prompt.
    io.stderr.write('\n');
    return answer;
  } catch (e) {
    // Ctrl-C or Ctrl-D at the prompt: no passphrase, and the command stops.
    throw new Error(e instanceof Error && /canceled/i.test(e.message) ? 'passphrase prompt cancelled' : 'cannot read the passphrase', { cause: e });
  }
}

/**
 * The passphrase from the environment, or asked on the terminal when stdin is one (`confirm` asks
 * twice). Undefined when there is neither, or the user typed nothing.
 */
export async function getPassphrase(io: CommandIO, options: { confirm: boolean }): Promise<string | undefined> {
  const fromEnv = io.env[PASSPHRASE_ENV];
  if (fromEnv !== undefined) return fromEnv || undefined;
  const input = io.stdin ?? process.stdin;
  if (!(input as { isTTY?: boolean }).isTTY) return undefined;
  const first = await ask(input, io, 'Passphrase for the private key (empty for none): ');
  if (!first) return undefined;
  if (options.confirm) {
    const again = await ask(input, io, 'Repeat the passphrase: ');
    if (again !== first) throw new Error('the passphrases differ');
  }
  return first;
}
