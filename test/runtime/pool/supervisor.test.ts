import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { WORKER_BASE_MB, workerCeilingMb } from '../../../runtime/pool/worker-memory.ts';
import { NO_GRANT, inlinePackage, limits, newSandbox } from '../../helpers/sandbox.ts';

const sandbox = newSandbox({ workers: 1 });
afterAll(() => sandbox.close());

const tools = inlinePackage('export default { ping: () => "pong" }');

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
}

function ceilingOf(pid: number): number {
  const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  const entry = env.find((e) => e.startsWith('WARDEN_WORKER_RSS_MB='));
  return Number(entry?.slice('WARDEN_WORKER_RSS_MB='.length));
}

describe('a sandbox worker process', () => {
  // isolated-vm's README: on Node >= 20 a process that loads it must run with --no-node-snapshot. V8's
  // WebAssembly code GC posts tasks to every isolate under its engine lock; one that released the last
  // reference to a disposed isolate deadlocked the worker (runtime/worker-process.ts).
  it('is started with --no-node-snapshot and --no-wasm-code-gc, node options V8 accepts, and serves calls', async () => {
    await expect(sandbox.run(tools, 'ping', {}, NO_GRANT, limits())).resolves.toMatchObject({ value: 'pong' });
    const [pid] = sandbox.stats().workerPids;
    const args = cmdline(pid!);
    const script = args.findIndex((a) => /worker[\\/]main\.[jt]s$/.test(a));
    for (const option of ['--no-node-snapshot', '--no-wasm-code-gc']) {
      // A node option: before the worker's script, not an argument to it.
      expect(args.indexOf(option)).toBeGreaterThan(0);
      expect(args.indexOf(option)).toBeLessThan(script);
    }
  });

  // A string bomb in a 64 MiB isolate peaked a worker with a fixed 1 GiB ceiling at 511 MiB.
  it('gets a memory ceiling from the packages it hosts, and is replaced by a larger one when a bigger package joins', async () => {
    await sandbox.run(tools, 'ping', {}, NO_GRANT, limits({ memoryMb: 64 }));
    const [small] = sandbox.stats().workerPids;
    const smallCeiling = ceilingOf(small!);
    expect(smallCeiling).toBeLessThan(1024);
    expect(smallCeiling).toBeGreaterThanOrEqual(WORKER_BASE_MB + 64 * 3);
    const big = inlinePackage('export default { ping: () => "big" }');
    await expect(sandbox.run(big, 'ping', {}, NO_GRANT, limits({ memoryMb: 256 }))).resolves.toMatchObject({ value: 'big' });
    const [grown] = sandbox.stats().workerPids;
    expect(grown).not.toBe(small);
    expect(ceilingOf(grown!)).toBeGreaterThan(smallCeiling);
    expect(ceilingOf(grown!)).toBeGreaterThanOrEqual(workerCeilingMb([64, 256], 1024));
    // Both packages answer from the new worker.
    await expect(sandbox.run(tools, 'ping', {}, NO_GRANT, limits())).resolves.toMatchObject({ value: 'pong' });
  });
});

describe('prewarming (issue 14)', () => {
  it('waits for the promise it is given (e.g. the first tools/list answered) before starting any worker', async () => {
    let release: () => void = () => undefined;
    const handshake = new Promise<void>((r) => (release = r));
    const { createSandbox } = await import('../../../runtime/index.ts');
    const sb = createSandbox({ workers: 2, prewarm: handshake as unknown as boolean });
    try {
      // Several turns of the event loop: nothing starts while the promise is pending.
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
      expect(sb.stats().workers).toBe(0);
      release();
      await handshake;
      await new Promise((r) => setImmediate(r));
      expect(sb.stats().workers).toBe(2);
    } finally {
      await sb.close();
    }
  });

  it('starts the workers right away when it is true', async () => {
    const { createSandbox } = await import('../../../runtime/index.ts');
    const sb = createSandbox({ workers: 2, prewarm: true });
    try {
      await new Promise((r) => setTimeout(r, 0));
      await new Promise((r) => setImmediate(r));
      expect(sb.stats().workers).toBe(2);
    } finally {
      await sb.close();
    }
  });
});
