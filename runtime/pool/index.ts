/**
 * The sandbox: a pool of worker processes hosting the isolates (runtime/pool/supervisor.ts) and the calls
 * scheduled onto them (runtime/pool/scheduler.ts). Tool code never runs in this process.
 */
import type { Grant, PackageCode, RunOptions, RunResult, Sandbox, SandboxOptions, SandboxStats } from '../api.ts';
import type { Limits } from '../types.ts';
import { createScheduler } from './scheduler.ts';
import type { Scheduler } from './scheduler.ts';
import { createSupervisor } from './supervisor.ts';
import { entryName, roundEntryName } from '../entry-name.ts';

export function createSandbox(options: SandboxOptions = {}): Sandbox {
  let scheduler: Scheduler | null = null;
  const supervisor = createSupervisor(options, {
    onMessage: (worker, message) => scheduler?.onMessage(worker, message),
    onExit: (worker, verdict, calls) => scheduler?.onExit(worker, verdict, calls),
  });
  const calls = createScheduler(options, supervisor);
  scheduler = calls;

  return {
    run(pkg: PackageCode, tool: string, args: unknown, grant: Grant, limits: Limits, runOptions: RunOptions = {}): Promise<RunResult> {
      const input = runOptions.input;
      if (input !== undefined && (runOptions.kind ?? 'tool') === 'tool') {
        // The arguments travel inside the round's envelope: the caller's JSON of them alone is not what is sent.
        const { argsFrame: _argsFrame, ...rest } = runOptions;
        return calls.run(pkg, roundEntryName(tool), { arguments: args, inputResponses: input.responses, requestState: input.state }, grant, limits, rest);
      }
      return calls.run(pkg, entryName(runOptions.kind ?? 'tool', tool), args, grant, limits, runOptions);
    },

    async unload(packageId: string): Promise<void> {
      supervisor.unload(packageId);
    },

    stats(): SandboxStats {
      const s = supervisor.stats();
      return { workers: s.workers, workerRestarts: s.restarts, packagesLoaded: s.packages, workerPids: s.pids };
    },

    async close(): Promise<void> {
      calls.close();
      await supervisor.close();
    },
  };
}
