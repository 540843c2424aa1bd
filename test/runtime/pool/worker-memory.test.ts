import { describe, expect, it } from 'vitest';
import { WORKER_BASE_MB, inMiB, memoryVerdict, overHalfCeiling, overKillLine, workerCeilingMb } from '../../../runtime/pool/worker-memory.ts';

const MIB = 1024 * 1024;

describe('workerCeilingMb', () => {
  it.each([
    [[64], 1024],
    [[64, 64], 1024],
    [[512], 1024],
    [[16, 256, 64], 2048],
    [[64], 256],
  ])('covers every heap at its limit plus the overshoot of the largest, within the cap (%j, cap %i)', (mbs, cap) => {
    const ceiling = workerCeilingMb(mbs, cap);
    const sum = mbs.reduce((a, b) => a + b, 0);
    const need = WORKER_BASE_MB + sum + 2 * Math.max(...mbs);
    expect(ceiling).toBe(Math.min(cap, Math.ceil(need / 128) * 128));
  });

  it('grows with what a worker hosts', () => {
    expect(workerCeilingMb([64, 64, 64], 4096)).toBeGreaterThan(workerCeilingMb([64], 4096));
    expect(workerCeilingMb([256], 4096)).toBeGreaterThan(workerCeilingMb([64], 4096));
  });
});

describe('the memory lines of a worker', () => {
  it('kills a worker only past one and a half times its ceiling', () => {
    expect(overKillLine(384 * MIB, 256)).toBe(false);
    expect(overKillLine(384 * MIB + 1, 256)).toBe(true);
  });

  it('recycles a worker that hit a limit only above half its ceiling', () => {
    expect(overHalfCeiling(128 * MIB, 256)).toBe(false);
    expect(overHalfCeiling(128 * MIB + 1, 256)).toBe(true);
  });

  it('reports bytes as whole MiB', () => {
    expect(inMiB(1.6 * MIB)).toBe(2);
  });
});

describe('memoryVerdict', () => {
  it('blames the package when it alone has calls in the worker', () => {
    expect(memoryVerdict({ calls: new Map([[1, 'a'], [2, 'a']]) })).toEqual({ kind: 'culprit', pkg: 'a', call: null, code: 'SANDBOX_MEMORY_LIMIT', message: 'the call exceeded the worker memory limit' });
  });

  it('blames nobody when several packages, or none, have calls there', () => {
    expect(memoryVerdict({ calls: new Map([[1, 'a'], [2, 'b']]) })).toEqual({ kind: 'crashed' });
    expect(memoryVerdict({ calls: new Map() })).toEqual({ kind: 'crashed' });
  });
});
