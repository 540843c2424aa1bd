import { describe, expect, it } from 'vitest';
import { NO_GRANT, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

/** A package whose call reports that it is running inside its isolate (an event), then never ends. */
function hangingCall(): { pkg: ReturnType<typeof inlinePackage>; started: Promise<void>; onLog: () => void } {
  let onLog!: () => void;
  const started = new Promise<void>((resolve) => (onLog = resolve));
  const pkg = inlinePackage('export default { wait: () => { console.log("running"); return new Promise(() => {}); } }');
  return { pkg, started, onLog };
}

describe('closing the sandbox', () => {
  // Measured: exiting right after isolate.dispose() occasionally segfaults; the worker disposes its
  // isolates, waits, then exits.
  it('shuts every worker down cleanly, warm isolates included, and refuses later calls', async () => {
    const diagnostics: { kind: string; detail: string }[] = [];
    const sandbox = newSandbox({ onDiagnostic: (d) => diagnostics.push(d) });
    const pkgs = [1, 2, 3, 4].map((n) => inlinePackage(`export default { n: () => ${n} }`));
    for (const p of pkgs) await sandbox.run(p, 'n', {}, NO_GRANT, limits());
    const hang = hangingCall();
    const outcome = sandbox.run(hang.pkg, 'wait', {}, NO_GRANT, limits(), { onLog: hang.onLog }).then(
      () => 'resolved',
      (e: { code?: string }) => e.code,
    );
    await hang.started;
    const pids = sandbox.stats().workerPids;
    expect(pids).toHaveLength(2);
    await sandbox.close();
    expect(await outcome).toBe('SANDBOX_CLOSED');
    // Every worker exited by itself with status 0: none had to be killed.
    const exits = diagnostics.filter((d) => d.kind === 'worker-exit').map((d) => d.detail);
    for (const pid of pids) expect(exits.filter((e) => e.includes(`(pid ${pid}) exited (0)`))).toHaveLength(1);
    expect(diagnostics.filter((d) => d.kind === 'worker-kill')).toEqual([]);
    await expect(sandbox.run(pkgs[0]!, 'n', {}, NO_GRANT, limits())).rejects.toMatchObject({ code: 'SANDBOX_CLOSED' });
  });

  it('fails the calls still waiting in a package queue with SANDBOX_CLOSED', async () => {
    const sandbox = newSandbox();
    const hang = hangingCall();
    const one = limits({ concurrency: 1 });
    const first = sandbox.run(hang.pkg, 'wait', {}, NO_GRANT, one, { onLog: hang.onLog }).catch((e: { code?: string }) => e.code);
    const queued = sandbox.run(hang.pkg, 'wait', {}, NO_GRANT, one).catch((e: { code?: string }) => e.code);
    await hang.started;
    await sandbox.close();
    expect(await first).toBe('SANDBOX_CLOSED');
    expect(await queued).toBe('SANDBOX_CLOSED');
  });
});
