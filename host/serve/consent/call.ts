/**
 * Consent for one tools/call (docs/consent.md): the runtime's ConsentHook for the call, answering each asked
 * rule from, in order, what this process already knows (always / never), this call's own answers (once, or
 * declined), and otherwise the user:
 *   - 2025-11-25 with elicitation: an `elicitation/create` form sent while the operation waits (the call's
 *     wall clock stopped), answered once / always / never; decline, cancel or no answer deny this call;
 *   - 2026-07-28 with elicitation: there is no server→client request, so the call ends and the client gets an
 *     input_required result whose signed requestState names the capability; its retry carries the answer and
 *     the call runs again from the start (an isolate cannot wait across client round trips: the protocol is
 *     stateless, the retry may come much later or never, and holding a paused call would hold its slot,
 *     memory and side effects in between);
 *   - no elicitation: CONSENT_REQUIRED, with the command that grants it from a terminal.
 *
 * Threat: what the user is shown is built by the host from the sealed lock's rule and the canonical request,
 * bounded and without control characters; the package cannot phrase the question. The answer a client
 * sends back is bound by the HMAC of the requestState to this package, version, tool, arguments and asked
 * rule: it cannot be replayed onto another capability.
 */
import type { ConsentDecision, ConsentDenyCode, ConsentHook, ConsentRequest } from '../../../runtime/index.ts';
import type { ElicitRequestFormParams, ElicitResult, InputRequiredResult } from '@modelcontextprotocol/server';
import { HostError } from '../../errors.ts';
import { printable } from '../../install/consent.ts';
import type { RoundState, StateBinding, StateCodec } from '../protocol/input-required.ts';
import { consentCommand } from './answers.ts';
import type { AskedCapability } from './answers.ts';
import type { ConsentStore, ConsentSubject } from './store.ts';

/** The key of the host's own consent question in an input_required result (never a tool's: see carried state). */
export const CONSENT_INPUT_KEY = 'mcp-warden-consent';

/** How the user can be reached during this call. */
export type ConsentChannel =
  | { readonly kind: 'elicit'; readonly elicit: (params: ElicitRequestFormParams, options: { timeout: number; signal: AbortSignal }) => Promise<ElicitResult> }
  | { readonly kind: 'input-required' }
  | { readonly kind: 'none' };

/** What a consent round's requestState carries (signed): the question and this call's earlier answers. */
interface Carried {
  /** The asked capability: [kind, rule]. */
  readonly a: readonly [string, string];
  /** Capabilities allowed for this call ("once", or "always" before the reload): "kind:rule". */
  readonly o: readonly string[];
  /** Capabilities declined for this call. */
  readonly d: readonly string[];
  /** The tool's own input-required round, if the question came during one (its state and answers). */
  readonly t?: { readonly s?: string; readonly r: Readonly<Record<string, unknown>> };
}

export interface CallConsentInput {
  readonly store: ConsentStore;
  readonly pkg: ConsentSubject;
  readonly tool: string;
  readonly channel: ConsentChannel;
  /** The request's signal: the call ends with it. */
  readonly signal: AbortSignal;
  /** A verified round state and the checked answers (2026-07-28 retries, and the tool's own rounds). */
  readonly round?: RoundState;
  readonly responses?: Readonly<Record<string, unknown>>;
}

export interface CallConsent {
  readonly hook: ConsentHook;
  /** The call's signal: the request's, also aborted when the call ends for a consent question (2026-07-28). */
  readonly signal: AbortSignal;
  /** The tool's own round input for this run: the request's, or what a consent round carried. */
  readonly toolInput?: { readonly responses: Readonly<Record<string, unknown>>; readonly state?: string };
  /** The input_required result asking the user, when the call ended for a consent question; else undefined. */
  inputRequired(binding: StateBinding, codec: StateCodec, round: number): InputRequiredResult | undefined;
  /** A call failure that a consent refusal caused, as that refusal's HostError; anything else unchanged. */
  mapFailure(e: unknown): unknown;
}

const keyOf = (a: AskedCapability): string => `${a.kind}:${a.rule}`;

function isCarried(v: unknown): v is Carried {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  const strings = (x: unknown): boolean => Array.isArray(x) && x.length <= 64 && x.every((s) => typeof s === 'string');
  return Array.isArray(c.a) && c.a.length === 2 && (c.a[0] === 'net' || c.a[0] === 'fs') && typeof c.a[1] === 'string' && strings(c.o) && strings(c.d);
}

/** The answer of a form elicitation: once / always / never, or null (declined, cancelled, malformed). */
export function answerOf(result: unknown): 'once' | 'always' | 'never' | null {
  if (typeof result !== 'object' || result === null) return null;
  const r = result as { action?: unknown; content?: { decision?: unknown } };
  if (r.action !== 'accept') return null;
  const d = r.content?.decision;
  return d === 'once' || d === 'always' || d === 'never' ? d : null;
}

/** The question, as the user reads it: who, which tool, what exactly, and under which rule. */
export function consentQuestion(pkg: ConsentSubject, tool: string, request: Pick<ConsentRequest, 'kind' | 'op' | 'rule'>): ElicitRequestFormParams {
  const kind = request.kind === 'net' ? 'network rule' : 'file rule';
  const message =
    `${printable(pkg.name, 214)}@${printable(pkg.version, 64)} (tool "${printable(tool, 64)}") wants to use a capability it was not granted at install:\n` +
    `  ${printable(request.op, 300)}\n` +
    `allowed by its ${kind} "${printable(request.rule, 300)}".\n` +
    'Allow it once (this call only), always (stored in your grant), or never (refused from now on)?';
  return {
    mode: 'form',
    message,
    requestedSchema: {
      type: 'object',
      properties: {
        decision: {
          type: 'string',
          title: 'Your answer',
          oneOf: [
            { const: 'once', title: 'Allow once (this call only)' },
            { const: 'always', title: 'Always allow' },
            { const: 'never', title: 'Never allow' },
          ],
        },
      },
      required: ['decision'],
    },
  };
}

/** Prepares the consent of one call; a 2026-07-28 retry's answer is applied (and stored) first. */
export async function createCallConsent(input: CallConsentInput): Promise<CallConsent> {
  const { store, pkg, tool, channel } = input;
  const once = new Set<string>();
  const declined = new Set<string>();
  let toolInput: CallConsent['toolInput'] = input.responses !== undefined && input.round !== undefined && input.round.consent === undefined ? { responses: input.responses, ...(input.round.toolState !== undefined ? { state: input.round.toolState } : {}) } : undefined;

  // A retry after the host's own question: the answer is about the capability the signed state names.
  const carried = input.round?.consent;
  if (carried !== undefined) {
    if (!isCarried(carried)) throw new HostError('INPUT_REQUEST_INVALID', 'the consent state is malformed');
    for (const k of carried.o) once.add(k);
    for (const k of carried.d) declined.add(k);
    if (carried.t !== undefined) toolInput = { responses: carried.t.r, ...(carried.t.s !== undefined ? { state: carried.t.s } : {}) };
    const asked: AskedCapability = { kind: carried.a[0] === 'net' ? 'net' : 'fs', rule: carried.a[1] };
    const answer = answerOf(input.responses?.[CONSENT_INPUT_KEY]);
    if (answer === 'once') {
      // The organisation policy's ceiling holds for an answer for one call too.
      if (store.ceiling(pkg, asked).allowed) once.add(keyOf(asked));
      else declined.add(keyOf(asked));
    } else if (answer === 'always' || answer === 'never') {
      const verdict = answer === 'always' ? store.ceiling(pkg, asked) : { allowed: true as const };
      if (verdict.allowed) {
        await store.answer(pkg, asked, answer);
        if (answer === 'always') once.add(keyOf(asked));
      } else declined.add(keyOf(asked));
    } else declined.add(keyOf(asked));
  }

  const controller = new AbortController();
  const onAbort = (): void => controller.abort(input.signal.reason);
  if (input.signal.aborted) onAbort();
  else input.signal.addEventListener('abort', onAbort, { once: true });

  let pending: (AskedCapability & { op: string }) | undefined;
  let refusal: { code: ConsentDenyCode; message: string } | undefined;
  // One question at a time per call: a second operation waits, then finds the first answer.
  let queue: Promise<unknown> = Promise.resolve();

  const deny = (code: ConsentDenyCode, message: string): ConsentDecision => {
    refusal ??= { code, message };
    return { allowed: false, code, message };
  };

  const decide = async (request: ConsentRequest, signal: AbortSignal): Promise<ConsentDecision> => {
    const asked: AskedCapability = { kind: request.kind, rule: request.rule };
    const what = `${printable(pkg.name, 214)} (tool "${printable(tool, 64)}") needs ${printable(request.op, 300)} (${request.kind} rule "${printable(request.rule, 300)}", asked at first use)`;
    const known = store.decided(pkg, asked);
    if (request.refused || known === 'never') return deny('CONSENT_REFUSED', `${what}: the user refused it; "${consentCommand(pkg.name, asked, '--forget')}" asks again, "${consentCommand(pkg.name, asked)}" grants it`);
    // Beyond the organisation policy's ceiling (docs/policy.md): refused without asking the user, whatever
    // was answered before the policy was set.
    const ceiling = store.ceiling(pkg, asked);
    if (!ceiling.allowed) return deny('CONSENT_REFUSED', `${what}: ${ceiling.message}`);
    if (known === 'always' || once.has(keyOf(asked))) return { allowed: true };
    if (declined.has(keyOf(asked))) return deny('CONSENT_DENIED', `${what}: the user declined it for this call`);
    if (channel.kind === 'none') return deny('CONSENT_REQUIRED', `${what}, and this client cannot ask you (no elicitation support): run "${consentCommand(pkg.name, asked)}" to grant it`);
    if (channel.kind === 'input-required') {
      // The call ends here; the client asks the user and calls again with the answer (see the header).
      pending ??= { ...asked, op: request.op };
      controller.abort(new HostError('CONSENT_REQUIRED', 'the call waits for the user'));
      return { allowed: false, code: 'CONSENT_REQUIRED', message: `${what}: waiting for the user's answer` };
    }
    let result: ElicitResult;
    try {
      result = await channel.elicit(consentQuestion(pkg, tool, request), { timeout: store.timeoutMs, signal });
    } catch (e) {
      if (signal.aborted) return { allowed: false, code: 'CONSENT_DENIED', message: `${what}: the call ended before the user answered` };
      const timedOut = (e as { code?: unknown })?.code === 'REQUEST_TIMEOUT';
      return timedOut ? deny('CONSENT_TIMEOUT', `${what}: nobody answered within ${Math.round(store.timeoutMs / 1000)} s; "${consentCommand(pkg.name, asked)}" grants it`) : deny('CONSENT_DENIED', `${what}: the client could not ask the user`);
    }
    const answer = answerOf(result);
    if (answer === null) {
      declined.add(keyOf(asked));
      return deny('CONSENT_DENIED', `${what}: the user declined it for this call`);
    }
    if (answer === 'once') {
      once.add(keyOf(asked));
      return { allowed: true };
    }
    if (answer === 'always') {
      // Within the policy's ceiling: checked before the question was asked (above).
      once.add(keyOf(asked));
      await store.answer(pkg, asked, 'always');
      return { allowed: true };
    }
    await store.answer(pkg, asked, 'never');
    return deny('CONSENT_REFUSED', `${what}: the user refused it; "${consentCommand(pkg.name, asked, '--forget')}" asks again`);
  };

  const hook: ConsentHook = {
    timeoutMs: store.timeoutMs,
    ask(request, signal) {
      const next = queue.then(() => decide(request, signal));
      queue = next.catch(() => {});
      return next;
    },
  };

  return {
    hook,
    signal: controller.signal,
    ...(toolInput !== undefined ? { toolInput } : {}),
    inputRequired(binding, codec, round) {
      if (pending === undefined) return undefined;
      const body: Carried = {
        a: [pending.kind, pending.rule],
        o: [...once],
        d: [...declined],
        ...(toolInput !== undefined ? { t: { r: toolInput.responses, ...(toolInput.state !== undefined ? { s: toolInput.state } : {}) } } : {}),
      };
      const requestState = codec.mint(binding, { keys: [CONSENT_INPUT_KEY], round, consent: body });
      // The state travels in every retry: past the size the codec accepts back, asking is not possible.
      if (requestState.length > 16 * 1024) throw new HostError('CONSENT_REQUIRED', `${pkg.name} needs ${pending.kind}:${pending.rule} and the call's state is too large to ask; run "${consentCommand(pkg.name, pending)}"`);
      return { resultType: 'input_required', inputRequests: { [CONSENT_INPUT_KEY]: { method: 'elicitation/create', params: consentQuestion(pkg, tool, { kind: pending.kind, rule: pending.rule, op: pending.op }) } }, requestState } as InputRequiredResult;
    },
    mapFailure(e) {
      const code = (e as { code?: unknown })?.code;
      if (refusal !== undefined && (code === 'CAPABILITY_DENIED' || code === 'TOOL_THREW')) return new HostError(refusal.code, refusal.message);
      return e;
    },
  };
}
