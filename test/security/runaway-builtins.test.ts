import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// Measured on isolated-vm 7 / Node 24: some built-ins ignore the CPU timeout and some allocations overshoot
// the heap limit many times over (string bombs) or are not counted at all. Each must still end with its
// code within the call's wall limit, the sandbox must keep serving, and the worker's resident memory must
// come back down (the worker is killed and replaced if it cannot).
const sandbox = newSandbox({ workerRssMb: 512 });
afterAll(() => sandbox.close());

function rssMb(pid: number): number {
  try {
    return (Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096) / 1024 / 1024;
  } catch {
    return 0;
  }
}

const runaway = inlinePackage(`export default {
  ok: () => 'ok',
  arrayFill: () => new Array(1e9).fill(0).length,
  hugeJoin: () => new Array(2e8).join('abcdefgh').length,
  stringBomb: () => { let s = 'x'; const keep = []; while (true) { s = s + s; keep.push(s + '!'); } },
  stringConcatLoop: () => { const parts = []; while (true) parts.push('y'.repeat(1e6) + Math.random()); },
  errorMessageLoop: () => { const e = new Error('x'); Object.defineProperty(e, 'message', { get() { while (true) {} } }); throw e; },
  typedArrayResult: () => new Float64Array(5e6),
}`);

describe('runaway built-ins', () => {
  const L = limits({ cpuMs: 300, wallMs: 2000, memoryMb: 64 });

  it.each([
    ['new Array(1e9).fill(0)', 'arrayFill'],
    ['a huge join', 'hugeJoin'],
    ['a string bomb', 'stringBomb'],
    ['a loop of large strings', 'stringConcatLoop'],
    ['an Error whose message getter loops', 'errorMessageLoop'],
    ['a large typed array result (slow to serialize)', 'typedArrayResult'],
  ])('%s ends with a limit code within the wall limit, and the sandbox keeps serving', async (_name, tool) => {
    const before = sandbox.stats().workerPids;
    const started = performance.now();
    const code = await codeOf(sandbox.run(runaway, tool, {}, NO_GRANT, L));
    expect(['SANDBOX_CPU_LIMIT', 'SANDBOX_MEMORY_LIMIT', 'SANDBOX_TIMEOUT', 'TOOL_THREW', 'OUTPUT_TOO_LARGE']).toContain(code);
    expect(performance.now() - started).toBeLessThan(L.wallMs + 1500);
    expect(await codeOf(sandbox.run(runaway, 'ok', {}, NO_GRANT, L))).toBe('OK');
    // Resident memory of every live worker is back under its ceiling.
    for (const pid of sandbox.stats().workerPids) expect(rssMb(pid)).toBeLessThan(512);
    expect(before.length).toBeGreaterThanOrEqual(0);
  });
});
