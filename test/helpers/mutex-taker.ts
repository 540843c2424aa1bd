/**
 * A contender for a home's writer lock, in its own process (test/host/home/mutex.test.ts). Prints
 * "ready", waits for "go" on stdin, tries to take the lock, prints "won" (and holds the lock until stdin
 * closes) or the refusal's code.
 *
 * Usage: node mutex-taker.ts HOME
 */
import { createInterface } from 'node:readline';
import { homeLayout } from '../../host/home/home.ts';
import { withHomeMutex } from '../../host/home/mutex.ts';

const home = homeLayout(process.argv[2] as string);
const lines = createInterface({ input: process.stdin });
const go = new Promise<void>((resolve) => lines.once('line', () => resolve()));
const closed = new Promise<void>((resolve) => lines.once('close', () => resolve()));
process.stdout.write('ready\n');
await go;
try {
  await withHomeMutex(home, async () => {
    process.stdout.write('won\n');
    await closed;
  });
} catch (e) {
  process.stdout.write(`${(e as { code?: string }).code ?? 'ERROR'}\n`);
}
lines.close();
