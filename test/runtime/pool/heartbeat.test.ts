import { afterAll, describe, expect, it } from 'vitest';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../../helpers/sandbox.ts';

// A frozen worker (SIGSTOP here; a stuck native call in the wild) sends nothing. Without a heartbeat it was
// noticed only by each call's wall-clock watchdog, and the call was blamed with SANDBOX_TIMEOUT. The
// thresholds are shortened here; any frame from the worker counts as alive.
const exits: string[] = [];
const sandbox = newSandbox({
  workers: 1,
  heartbeatIntervalMs: 100,
  heartbeatTimeoutMs: 2_000,
  onDiagnostic: (d) => d.kind === 'worker-exit' && exits.push(d.detail),
});
const stopped: number[] = [];
afterAll(async () => {
  for (const pid of stopped) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone, as it should be
    }
  }
  await sandbox.close();
});

const tools = inlinePackage(`export default {
  ping: () => 'pong',
  wait: async ({ ms }) => { console.log('waiting'); await new Promise((r) => setTimeout(r, ms)); return 'waited'; },
}`);

describe('a worker that stops answering its heartbeat', () => {
  it('is killed and replaced, and its call fails with the retryable WORKER_UNRESPONSIVE', async () => {
    await sandbox.run(tools, 'ping', {}, NO_GRANT, limits());
    const [pid] = sandbox.stats().workerPids;
    expect(pid).toBeDefined();
    let waiting!: () => void;
    const started = new Promise<void>((resolve) => (waiting = resolve));
    // The wall limit is far away: only the heartbeat can end this call early.
    const call = sandbox.run(tools, 'wait', { ms: 60_000 }, NO_GRANT, limits({ wallMs: 20_000 }), { onLog: () => waiting() });
    await started;
    process.kill(pid!, 'SIGSTOP');
    stopped.push(pid!);
    await expect(call).rejects.toMatchObject({ code: 'WORKER_UNRESPONSIVE', retryable: true });
    expect(exits.some((e) => e.includes(`(pid ${pid})`))).toBe(true);
    await expect(sandbox.run(tools, 'ping', {}, NO_GRANT, limits())).resolves.toMatchObject({ value: 'pong' });
    expect(sandbox.stats().workerPids).not.toContain(pid);
  }, 40_000);

  it('never trips while a worker merely waits on a long call', async () => {
    // Several heartbeat thresholds of waiting: the worker is idle in its event loop and answers pings.
    expect(await codeOf(sandbox.run(tools, 'wait', { ms: 5_000 }, NO_GRANT, limits({ wallMs: 20_000 })))).toBe('OK');
  }, 40_000);
});
