import { afterAll, describe, expect, it } from 'vitest';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../../helpers/sandbox.ts';

// V8 does not give back what an isolate grew: after a memory bomb, a big result or a log flood, workers
// kept 70–110 MiB more resident (measured), and were recycled only above half of a 1 GiB ceiling. A
// worker where such a limit was hit is now replaced once idle, so memory returns to a fresh baseline.
const exited = new Map<number, () => void>();
const sandbox = newSandbox({
  workers: 1,
  onDiagnostic: (d) => {
    if (d.kind !== 'worker-exit') return;
    const pid = Number(/\(pid (\d+)\)/.exec(d.detail)?.[1]);
    exited.get(pid)?.();
  },
});
afterAll(() => sandbox.close());

/** Resolves when the worker with this pid has exited (an event, not a delay). */
function exitOf(pid: number): Promise<void> {
  return new Promise((resolve) => exited.set(pid, resolve));
}

const bombs = inlinePackage(`export default {
  ok: () => 'ok',
  stringBomb: () => { let s = 'xxxxxxxx'; const keep = []; for (;;) { s = s + s; keep.push(s.slice(1)); } },
  bigResult: () => 'x'.repeat(4 * 1024 * 1024),
  logFlood: () => { for (let i = 0; i < 100000; i++) console.log('line', i, 'x'.repeat(100)); return 'done'; },
}`);

describe('a worker where a memory-related limit was hit', () => {
  it.each([
    ['a string bomb', 'stringBomb', 'SANDBOX_MEMORY_LIMIT'],
    ['a result over the output limit', 'bigResult', 'OUTPUT_TOO_LARGE'],
    ['a log flood (the call itself succeeds)', 'logFlood', 'OK'],
  ])('is replaced after %s, and the package still answers', async (_name, tool, code) => {
    // CPU to spare: the limits under test are the heap's and the output's (README.md, *Testing under load*).
    const L = limits({ memoryMb: 64, cpuMs: 20_000, wallMs: 30_000, outputBytes: 1024 * 1024, logBytes: 16 * 1024 });
    expect(await codeOf(sandbox.run(bombs, 'ok', {}, NO_GRANT, L))).toBe('OK');
    const [pid] = sandbox.stats().workerPids;
    const gone = exitOf(pid!);
    expect(await codeOf(sandbox.run(bombs, tool, {}, NO_GRANT, L))).toBe(code);
    await gone;
    expect(await codeOf(sandbox.run(bombs, 'ok', {}, NO_GRANT, L))).toBe('OK');
    expect(sandbox.stats().workerPids).not.toContain(pid);
  }, 30_000);
});
