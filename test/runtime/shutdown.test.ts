import { describe, expect, it } from 'vitest';
import { NO_GRANT, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

describe('closing the sandbox', () => {
  // Measured: exiting right after isolate.dispose() occasionally segfaults; the worker disposes its
  // isolates, waits, then exits.
  it('shuts every worker down cleanly, warm isolates included, and refuses later calls', async () => {
    const exits: string[] = [];
    const sandbox = newSandbox({ onDiagnostic: (d) => d.kind === 'worker-exit' && exits.push(d.detail) });
    const pkgs = [1, 2, 3, 4].map((n) => inlinePackage(`export default { n: () => ${n} }`));
    for (const p of pkgs) await sandbox.run(p, 'n', {}, NO_GRANT, limits());
    const pending = sandbox.run(inlinePackage('export default { wait: () => new Promise(() => {}) }'), 'wait', {}, NO_GRANT, limits());
    const outcome = pending.then(
      () => 'resolved',
      (e: { code?: string }) => e.code,
    );
    await new Promise((r) => setTimeout(r, 50));
    await sandbox.close();
    expect(await outcome).toBe('SANDBOX_CLOSED');
    expect(exits.sort()).toEqual(['worker 0 exited (0)', 'worker 1 exited (0)']);
    await expect(sandbox.run(pkgs[0]!, 'n', {}, NO_GRANT, limits())).rejects.toMatchObject({ code: 'SANDBOX_CLOSED' });
  });
});
