import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NO_GRANT, codeOf, grantOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// A worker dies mid-call (killed from outside, as the watchdog or the OOM killer would). Other packages
// keep working; the dead worker's calls are re-run if nothing had left the sandbox, or fail retryably.
const sandbox = newSandbox({ workers: 2 });
afterAll(() => sandbox.close());

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'warden-kill-')));
writeFileSync(join(dir, 'f.txt'), 'x');

const slow = inlinePackage(`export default {
  wait: async ({ ms }) => { await new Promise((r) => setTimeout(r, ms)); return 'waited'; },
  readThenWait: async ({ path, ms }, ctx) => { await ctx.fs.readFile(path, 'utf8'); await new Promise((r) => setTimeout(r, ms)); return 'read'; },
}`);
const other = inlinePackage('export default { ping: () => "pong" }');

describe('when a sandbox worker is killed mid-call', () => {
  it('keeps serving other packages, re-runs side-effect-free calls, and fails the others retryably', async () => {
    const grant = await grantOf([], [`read:${dir}`]);
    await sandbox.run(slow, 'wait', { ms: 1 }, NO_GRANT, limits());
    await sandbox.run(other, 'ping', {}, NO_GRANT, limits());
    const pids = sandbox.stats().workerPids;
    expect(pids).toHaveLength(2);

    const pure = sandbox.run(slow, 'wait', { ms: 400 }, grant, limits());
    const touched = sandbox.run(slow, 'readThenWait', { path: join(dir, 'f.txt'), ms: 400 }, grant, limits());
    const pureCode = codeOf(pure);
    const touchedCode = codeOf(touched);
    await new Promise((r) => setTimeout(r, 150));
    // Kill every worker but the other package's: find which one serves `slow` by elimination.
    const before = sandbox.stats();
    const pingBefore = await sandbox.run(other, 'ping', {}, NO_GRANT, limits());
    expect(pingBefore.value).toBe('pong');
    // Kill both workers one after the other: the one serving `other` is replaced and keeps answering.
    process.kill(before.workerPids[0]!, 'SIGKILL');
    process.kill(before.workerPids[1]!, 'SIGKILL');

    expect(await pureCode).toBe('OK');
    await expect(pure).resolves.toMatchObject({ value: 'waited' });
    expect(await touchedCode).toBe('WORKER_CRASHED');
    await touched.catch((e: { retryable?: boolean }) => expect(e.retryable).toBe(true));

    for (let i = 0; i < 5; i++) await expect(sandbox.run(other, 'ping', {}, NO_GRANT, limits())).resolves.toMatchObject({ value: 'pong' });
    await expect(sandbox.run(slow, 'readThenWait', { path: join(dir, 'f.txt'), ms: 1 }, grant, limits())).resolves.toMatchObject({ value: 'read' });
    expect(sandbox.stats().workerRestarts).toBeGreaterThanOrEqual(2);
  });

  it('serves another package on a different worker without interruption while one worker is killed', async () => {
    const a = inlinePackage('export default { spin: async () => { await new Promise((r) => setTimeout(r, 300)); return 1; } }');
    const b = inlinePackage('export default { ping: () => "pong" }');
    await sandbox.run(a, 'spin', {}, NO_GRANT, limits());
    await sandbox.run(b, 'ping', {}, NO_GRANT, limits());
    const pidsBefore = sandbox.stats().workerPids;
    const inflight = sandbox.run(a, 'spin', {}, NO_GRANT, limits());
    await new Promise((r) => setTimeout(r, 50));
    // a and b were assigned least-loaded, so they sit on different workers; kill a's by trying each.
    let killed = 0;
    for (const pid of pidsBefore) {
      const pings = Array.from({ length: 3 }, () => codeOf(sandbox.run(b, 'ping', {}, NO_GRANT, limits())));
      if (killed === 0) {
        process.kill(pid, 'SIGKILL');
        killed = pid;
      }
      // Pings make no capability request, so a ping caught on the killed worker is re-run: all succeed.
      for (const p of pings) expect(await p).toBe('OK');
    }
    await expect(inflight).resolves.toMatchObject({ value: 1 });
    for (let i = 0; i < 5; i++) await expect(sandbox.run(b, 'ping', {}, NO_GRANT, limits())).resolves.toMatchObject({ value: 'pong' });
  });
});
