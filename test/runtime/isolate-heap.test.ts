import { afterAll, describe, expect, it } from 'vitest';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// The young generation is taken out of the old generation's share of a package's memoryMb
// (runtime/isolate-entry.ts, isolateHeapMb): the package's bound on its whole heap must stay memoryMb,
// neither lower (a package may still keep most of it alive) nor higher (a bomb still stops there).
const pkg = inlinePackage(`let kept = null;
export default {
  // Doubles in one array: 8 bytes each, in the old generation's large-object space.
  keep: (input) => { kept = new Array(input.mb * 131072).fill(1.5); return kept.length; },
  drop: () => { kept = null; return true; },
  // ~4 MiB of small objects alive at once (more than a semi-space of the old sizing), then a result.
  churn: () => { const rows = Array.from({ length: 50000 }, (_, i) => ({ id: i, name: 'row-' + i })); return rows.length; },
}`);

const sandbox = newSandbox({ workers: 1 });
afterAll(async () => {
  await sandbox.close();
});

describe('an isolate heap sized from memoryMb', () => {
  const L = limits({ memoryMb: 64, cpuMs: 20_000, wallMs: 60_000 });

  it('keeps 48 MiB alive under a 64 MiB limit: more than the old generation alone is given', async () => {
    await expect(sandbox.run(pkg, 'keep', { mb: 48 }, NO_GRANT, L)).resolves.toMatchObject({ value: 48 * 131072 });
    await expect(sandbox.run(pkg, 'drop', {}, NO_GRANT, L)).resolves.toMatchObject({ value: true });
  });

  it('still stops a package that keeps more than its 64 MiB alive, with SANDBOX_MEMORY_LIMIT', async () => {
    expect(await codeOf(sandbox.run(pkg, 'keep', { mb: 80 }, NO_GRANT, L))).toBe('SANDBOX_MEMORY_LIMIT');
  });

  it('serves calls that allocate more than a small young generation holds', async () => {
    for (let i = 0; i < 5; i++) await expect(sandbox.run(pkg, 'churn', {}, NO_GRANT, L)).resolves.toMatchObject({ value: 50000 });
  });
});
