/**
 * A running call's capability requests, as the scheduler serves them: each request from a worker is checked
 * and performed on the host (runtime/host-calls.ts) with the call's grant, limits, circuit breakers and
 * consent, and its answer sent back to that worker only while the call still runs there. What the request
 * did is marked on the call (a side effect, a denial, an open circuit) for how its end is reported.
 */
import { SandboxError } from '../errors.ts';
import { fileAccessFor, runHostCall } from '../host-calls.ts';
import type { HostCallContext } from '../host-calls.ts';
import type { BreakerRegistry } from '../io/breaker.ts';
import type { CapabilityEvent } from '../types.ts';
import type { Call } from './call.ts';
import type { Supervisor } from './supervisor.ts';
import type { Worker } from './worker.ts';

export interface RequestServerOptions {
  readonly resolve: HostCallContext['resolve'];
  /** Per package and remote origin, shared by the package's calls (runtime/io/breaker.ts). */
  readonly breakers: BreakerRegistry;
  readonly supervisor: Supervisor;
}

/** Serves one capability request of `call`, made on `worker`. */
export type ServeRequest = (worker: Worker, call: Call, req: number, op: string, argsJson: string, body: Uint8Array | undefined) => Promise<void>;

export function createRequestServer({ resolve, breakers, supervisor }: RequestServerOptions): ServeRequest {
  /** The host asked the user (docs/consent.md): the call's wall clock, here and in its worker, moves by the wait. */
  function extendDeadline(worker: Worker, call: Call, ms: number): void {
    if (call.state !== 'running' || call.worker !== worker) return;
    call.deadline += ms;
    supervisor.send(worker, { t: 'extend', call: call.id, ms });
  }

  return async function serveRequest(worker, call, req, op, argsJson, body) {
    call.sideEffects = true;
    const onEvent = (e: CapabilityEvent) => {
      // A breaker's fail-fast is not a policy refusal: a tool that rethrows it did not hit its grant.
      if (!e.allowed && e.code !== 'CIRCUIT_OPEN') call.denied = true;
      if (e.kind === 'net' && e.code === 'CIRCUIT_OPEN') call.circuitOpen = true;
      call.options.onCapability?.(e);
    };
    call.io ??= new AbortController();
    const ctx: HostCallContext = {
      grant: call.grant,
      limits: call.limits,
      signal: call.io.signal,
      resolve,
      onEvent,
      breaker: breakers.forPackage(call.pkg.id, onEvent),
      ...(call.options.consent === undefined ? {} : { consent: call.options.consent, extendDeadline: (ms: number) => extendDeadline(worker, call, ms) }),
    };
    const files = () => {
      call.files ??= fileAccessFor(ctx);
      return call.files;
    };
    try {
      const result = await runHostCall(ctx, files, op, argsJson, body);
      if (call.state !== 'running' || call.worker !== worker) return;
      supervisor.send(worker, { t: 'res', call: call.id, req, ok: true, json: result.json, ...(result.bytes === undefined ? {} : { bytes: result.bytes }) });
    } catch (e) {
      if (call.state !== 'running' || call.worker !== worker) return;
      const err = e instanceof SandboxError ? e : new SandboxError('CAPABILITY_FAILED', 'the host call failed');
      if (err.code === 'CAPABILITY_DENIED') call.denied = true;
      supervisor.send(worker, { t: 'res', call: call.id, req, ok: false, json: JSON.stringify({ code: err.code, message: err.message }) });
    }
  };
}
