/**
 * Entries into a call's isolate and what the isolate posts during them: results (held until the entry that
 * posted them returns), log lines, progress, and requests for the host (capabilities, timers), whose
 * answers enter the isolate again.
 */
import { EntryError, freshArrayBuffer } from '../isolate.ts';
import { utf8LongerThan } from '../utf8-length.ts';
import type { PackageIsolate } from '../isolate.ts';
import { fail, failAndReset, remainingWall, resetPackage, settle } from './calls.ts';
import { LOG_LEVELS, TOOL_ERROR_CODES, calls, send } from './state.ts';
import type { CallRecord } from './state.ts';

/**
 * Awaits one entry of `rec` into `iso`, charges its CPU time to the call, and then releases the outcomes
 * the isolate posted during it. An entry that hit a limit fails the call with that limit's code.
 */
export async function runEntry(rec: CallRecord, iso: PackageIsolate, entry: Promise<number>): Promise<void> {
  try {
    rec.cpuUsed += await entry;
  } catch (e) {
    if (!(e instanceof EntryError)) {
      failAndReset(rec, 'TOOL_THREW', 'the call could not be completed');
      return;
    }
    rec.cpuUsed += e.cpuMs;
    if (e.failure !== 'rejection') {
      onEntryFailure(rec, iso, e.failure);
      return;
    }
    // A promise rejected and never handled inside the isolate: like Node's default for a library, it is
    // reported (to the call's log) and ignored; it is neither the call's result nor a fault of the sandbox.
    if (!rec.settled) send({ t: 'log', call: rec.id, level: 'warning', message: `unhandled promise rejection ignored: ${e.message}`.slice(0, 400) });
  }
  releaseHeld(iso);
}

export function onEntryFailure(rec: CallRecord, iso: PackageIsolate, failure: 'timeout' | 'memory' | 'disposed'): void {
  if (failure === 'disposed') {
    // Whoever disposed it (a limit of this worker, a reset) has already failed the call with its code.
    fail(rec, 'ISOLATE_RESET', 'the isolate was reset by another call of the same package');
    return;
  }
  if (failure === 'memory') fail(rec, 'SANDBOX_MEMORY_LIMIT', 'the call exceeded its memory limit');
  else fail(rec, 'SANDBOX_TIMEOUT', 'the call exceeded its wall-clock limit');
  resetPackage(rec.pkg, 'ISOLATE_RESET', 'the isolate was reset because another call of the same package hit a limit', iso);
}

/** The entry that was running has returned: the outcomes posted during it are final now. */
export function releaseHeld(iso: PackageIsolate): void {
  for (const rec of calls.values()) {
    if (rec.iso === iso) release(rec);
  }
}

/** Sends (or fails) the call with its held outcome, if it has one. */
function release(rec: CallRecord): void {
  if (rec.held === null || rec.settled) return;
  const outcome = rec.held;
  rec.held = null;
  if (!outcome.ok) {
    fail(rec, outcome.code, outcome.message);
  } else if (utf8LongerThan(outcome.json, rec.limits.outputBytes)) {
    fail(rec, 'OUTPUT_TOO_LARGE', 'the result is larger than the output limit');
  } else {
    settle(rec);
    send({ t: 'ok', call: rec.id, json: outcome.json, cpuMs: rec.cpuUsed });
  }
}

/**
 * An outcome reaches the worker without the isolate waiting (runtime/isolate.ts, postOutcome), ahead of the
 * return of the entry that posted it. Should it ever come after that return, with no entry of its call left
 * to return, it is final now rather than held for good.
 */
function releaseIfReturned(rec: CallRecord): void {
  if (rec.iso !== null && !rec.iso.hasEntries(rec.id)) release(rec);
}

export function onPost(callId: number, kind: string, reqId: number, a: string, b: string, c: string | ArrayBuffer): void {
  const rec = calls.get(callId);
  if (rec === undefined || rec.settled) return;
  switch (kind) {
    // The outcome is held until the entry running now returns (see releaseHeld).
    case 'ok':
      rec.held ??= { ok: true, json: a };
      releaseIfReturned(rec);
      return;
    case 'err':
      rec.held ??= { ok: false, code: TOOL_ERROR_CODES.has(a) ? a : 'TOOL_THREW', message: b.slice(0, 2000) };
      releaseIfReturned(rec);
      return;
    case 'req':
      onRequest(rec, reqId, a, b, c);
      return;
    case 'log': {
      const nul = b.indexOf('\u0000');
      const message = (nul < 0 ? b : b.slice(0, nul)).slice(0, 4096);
      const data = nul < 0 ? undefined : b.slice(nul + 1, nul + 1 + 4096);
      send({ t: 'log', call: callId, level: LOG_LEVELS.has(a) ? a : 'info', message, data });
      return;
    }
    case 'progress':
      send({ t: 'progress', call: callId, json: a.slice(0, 4096) });
      return;
  }
}

export function onRequest(rec: CallRecord, reqId: number, op: string, argsJson: string, body: string | ArrayBuffer): void {
  // The bootstrap counts too; this second count holds even if the bootstrap were subverted.
  if (op === 'timer' ? rec.timers.size >= 1000 : ++rec.hostCalls > rec.limits.hostCalls) {
    void deliverError(rec, reqId, 'QUOTA_EXCEEDED', 'too many host calls in one tool call');
    return;
  }
  if (op === 'timer') {
    let ms = 0;
    let at = Date.now();
    try {
      const args = JSON.parse(argsJson) as { ms?: unknown; at?: unknown };
      ms = Number(args.ms) || 0;
      // When the tool set it (its thread may have waited for this one): at most a wall limit back.
      const setAt = Number(args.at);
      if (Number.isFinite(setAt)) at = Math.min(at, Math.max(at - rec.limits.wallMs, setAt));
    } catch {
      ms = 0;
    }
    // When the timer is due, from now, as the tool asked: not capped at the wall limit first (with the cap,
    // a timer due long after the limit, set within a millisecond of the call's start, could come out due
    // just before it and fire early, and the call succeed instead of ending with its limit).
    const delay = Math.max(0, Math.max(0, ms) - (Date.now() - at));
    // A timer that cannot fire before the call's wall-clock limit is that limit: it ends the call with it.
    const wall = remainingWall(rec);
    const t = setTimeout(
      () => {
        rec.timers.delete(t);
        if (delay >= wall) failAndReset(rec, 'SANDBOX_TIMEOUT', 'the call exceeded its wall-clock limit');
        else void deliverResult(rec, reqId, true, '', undefined);
      },
      Math.min(delay, wall),
    );
    rec.timers.add(t);
    return;
  }
  // Bytes leave the isolate as a copied ArrayBuffer; they travel to the host as the frame's raw payload.
  send(typeof body === 'string' ? { t: 'req', call: rec.id, req: reqId, op, args: argsJson } : { t: 'req', call: rec.id, req: reqId, op, args: argsJson, body: new Uint8Array(body) });
}

export async function onHostResult(callId: number, reqId: number, ok: boolean, json: string, payload: Uint8Array | undefined): Promise<void> {
  const rec = calls.get(callId);
  if (rec === undefined || rec.settled) return;
  const bytes = payload === undefined ? undefined : freshArrayBuffer(payload);
  await deliverResult(rec, reqId, ok, json, bytes);
}

export async function deliverResult(rec: CallRecord, reqId: number, ok: boolean, json: string, bytes: ArrayBuffer | undefined): Promise<void> {
  const iso = rec.iso;
  if (rec.settled || rec.held !== null || iso === null || iso.isDisposed) return;
  // Past the deadline (the sampler checks it only periodically), nothing more runs for the call.
  if (performance.now() >= rec.deadline) {
    failAndReset(rec, 'SANDBOX_TIMEOUT', 'the call exceeded its wall-clock limit');
    return;
  }
  await runEntry(rec, iso, iso.deliver(rec.id, reqId, ok, json, bytes, remainingWall(rec)));
}

export function deliverError(rec: CallRecord, reqId: number, code: string, message: string): Promise<void> {
  return deliverResult(rec, reqId, false, JSON.stringify({ code, message }), undefined);
}
