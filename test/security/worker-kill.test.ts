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
  wait: async ({ ms }) => { console.log('waiting'); await new Promise((r) => setTimeout(r, ms)); return 'waited'; },
  readThenWait: async ({ path, ms }, ctx) => { await ctx.fs.readFile(path, 'utf8'); console.log('read'); await new Promise((r) => setTimeout(r, ms)); return 'read'; },
}`);
const other = inlinePackage('export default { ping: () => "pong" }');

/** A promise resolved at the first log line of a call (it is running in its isolate), and its listener. */
function firstLog(): { seen: Promise<void>; onLog: () => void } {
  let onLog!: () => void;
  const seen = new Promise<void>((resolve) => (onLog = resolve));
  return { seen, onLog };
}

describe('when a sandbox worker is killed mid-call', () => {
  it('keeps serving other packages, re-runs side-effect-free calls, and fails the others retryably', async () => {
    const grant = await grantOf([], [`read:${dir}`]);
    await sandbox.run(slow, 'wait', { ms: 1 }, NO_GRANT, limits());
    await sandbox.run(other, 'ping', {}, NO_GRANT, limits());
    const pids = sandbox.stats().workerPids;
    expect(pids).toHaveLength(2);

    // Both calls are inside their isolate when the workers die: `pure` waiting with nothing done, `touched`
    // after its file read reached the host (a side effect that must not be repeated). The waits are long
    // so that neither can finish before the kill.
    const pureRunning = firstLog();
    const touchedRead = firstLog();
    let pureRuns = 0;
    const onPureLog = () => {
      pureRuns++;
      pureRunning.onLog();
    };
    const pure = sandbox.run(slow, 'wait', { ms: 3_000 }, grant, limits({ wallMs: 20_000 }), { onLog: onPureLog });
    const touched = sandbox.run(slow, 'readThenWait', { path: join(dir, 'f.txt'), ms: 10_000 }, grant, limits({ wallMs: 20_000 }), { onLog: touchedRead.onLog });
    const pureCode = codeOf(pure);
    const touchedCode = codeOf(touched);
    await Promise.all([pureRunning.seen, touchedRead.seen]);
    await expect(sandbox.run(other, 'ping', {}, NO_GRANT, limits())).resolves.toMatchObject({ value: 'pong' });
    // Both workers are killed, the one serving `slow` and the one serving `other`: each is replaced.
    for (const pid of pids) process.kill(pid, 'SIGKILL');

    expect(await pureCode).toBe('OK');
    await expect(pure).resolves.toMatchObject({ value: 'waited' });
    // It ran twice: once on the killed worker, once on its replacement.
    expect(pureRuns).toBe(2);
    expect(await touchedCode).toBe('WORKER_CRASHED');
    await touched.catch((e: { retryable?: boolean }) => expect(e.retryable).toBe(true));

    for (let i = 0; i < 5; i++) await expect(sandbox.run(other, 'ping', {}, NO_GRANT, limits())).resolves.toMatchObject({ value: 'pong' });
    await expect(sandbox.run(slow, 'readThenWait', { path: join(dir, 'f.txt'), ms: 1 }, grant, limits())).resolves.toMatchObject({ value: 'read' });
    expect(sandbox.stats().workerRestarts).toBeGreaterThanOrEqual(2);
    for (const pid of pids) expect(sandbox.stats().workerPids).not.toContain(pid);
  }, 30_000);

  it('keeps answering another package while each worker in turn is killed, re-running the calls caught on it', async () => {
    const a = inlinePackage('export default { spin: async () => { console.log("spinning"); await new Promise((r) => setTimeout(r, 2000)); return 1; } }');
    const b = inlinePackage('export default { ping: () => "pong" }');
    await sandbox.run(b, 'ping', {}, NO_GRANT, limits());
    const pidsBefore = sandbox.stats().workerPids;
    expect(pidsBefore).toHaveLength(2);
    const spinning = firstLog();
    const inflight = sandbox.run(a, 'spin', {}, NO_GRANT, limits({ wallMs: 20_000 }), { onLog: spinning.onLog });
    await spinning.seen;
    for (const pid of pidsBefore) {
      const pings = Array.from({ length: 3 }, () => codeOf(sandbox.run(b, 'ping', {}, NO_GRANT, limits())));
      process.kill(pid, 'SIGKILL');
      // Pings make no capability request, so a ping caught on the killed worker is re-run: all succeed.
      for (const p of pings) expect(await p).toBe('OK');
    }
    // `a`'s call was on one of the killed workers, with nothing done yet: it was re-run, and succeeds.
    await expect(inflight).resolves.toMatchObject({ value: 1 });
    for (let i = 0; i < 5; i++) await expect(sandbox.run(b, 'ping', {}, NO_GRANT, limits())).resolves.toMatchObject({ value: 'pong' });
  }, 30_000);
});
