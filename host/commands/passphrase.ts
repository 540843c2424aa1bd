/**
 * The passphrase of a publisher's private key: MCP_WARDEN_KEY_PASSPHRASE, else a prompt on a terminal
 * (input not echoed), else none. Never a command-line flag: argv is visible to every local user.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { CommandIO } from './io.ts';

export const PASSPHRASE_ENV = 'MCP_WARDEN_KEY_PASSPHRASE';

function ask(input: Readable, io: CommandIO, question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, output: io.stderr, terminal: true });
    // Echo nothing of what is typed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
    io.stderr.write(question);
    rl.question('', (answer) => {
      rl.close();
      io.stderr.write('\n');
      resolve(answer);
    });
  });
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
