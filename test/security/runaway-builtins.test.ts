import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// Measured on isolated-vm 7 / Node 24: some built-ins ignore termination and some allocations overshoot
// the heap limit many times over or are not counted at all. Each must end with the code of the limit that
// fired, the sandbox must keep serving, and the worker's resident memory must come back down (the worker is
// killed and replaced if it cannot).
const sandbox = newSandbox({ workerRssMb: 512 });
afterAll(() => sandbox.close());

function rssMb(pid: number): number {
  try {
    return (Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096) / 1024 / 1024;
  } catch {
    return 0;
  }
}

const source = `export default {
  ok: () => 'ok',
  arrayFill: () => new Array(1e9).fill(0).length,
  hugeJoin: () => new Array(2e8).join('abcdefgh').length,
  stringBomb: () => { let s = 'x'; const keep = []; while (true) { s = s + s; keep.push(s + '!'); } },
  stringConcatLoop: () => { const parts = []; while (true) parts.push('y'.repeat(1e6) + Math.random()); },
  errorMessageLoop: () => { const e = new Error('x'); Object.defineProperty(e, 'message', { get() { while (true) {} } }); throw e; },
  typedArrayResult: () => new Float64Array(5e6),
}`;
// A package's heap limit is fixed when its isolate is created: each limit set gets its own package.
const runaway = inlinePackage(source);
const runawayRoomy = inlinePackage(source);

describe('runaway built-ins', () => {
  // Limits per case leave one limit clearly first, so each case has one code, loaded machine or not (CPU
  // time is measured, not wall time).
  const cpu = limits({ cpuMs: 300, wallMs: 30_000, memoryMb: 64 });
  const cpuRoomy = limits({ cpuMs: 100, wallMs: 30_000, memoryMb: 256 });

  it.each([
    ['new Array(1e9).fill(0)', runaway, 'arrayFill', cpu, 'SANDBOX_CPU_LIMIT'],
    ['a huge join (past the maximum string length)', runaway, 'hugeJoin', cpu, 'TOOL_THREW'],
    ['a string bomb (past the maximum string length)', runaway, 'stringBomb', cpu, 'TOOL_THREW'],
    ['a loop of large strings', runaway, 'stringConcatLoop', cpu, 'SANDBOX_CPU_LIMIT'],
    ['an Error whose message getter loops', runaway, 'errorMessageLoop', cpu, 'SANDBOX_CPU_LIMIT'],
    ['a large typed array result (slow to serialize)', runawayRoomy, 'typedArrayResult', cpuRoomy, 'SANDBOX_CPU_LIMIT'],
  ])('%s ends with its limit code, and the sandbox keeps serving', async (_name, pkg, tool, L, code) => {
    expect(await codeOf(sandbox.run(pkg, tool, {}, NO_GRANT, L))).toBe(code);
    expect(await codeOf(sandbox.run(pkg, 'ok', {}, NO_GRANT, L))).toBe('OK');
    // Resident memory of every live worker is back under its ceiling.
    for (const pid of sandbox.stats().workerPids) expect(rssMb(pid)).toBeLessThan(512);
  });
});
