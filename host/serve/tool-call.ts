/**
 * tools/call: one call from the client's arguments to its result. The arguments, as received
 * (session.ts), are checked for depth, digested for the audit trail, checked against the tool's schema
 * and, with the user's rate limit and the package's capabilities asked at first use, run in the sandbox
 * (or forwarded to a wrapped MCP server); the result is checked and mapped, a failure becomes a tool error
 * (tool-result.ts), and every call ends in one audit record. A tool's input-required result and the
 * consent questions are rounds bound to a signed requestState (protocol/input-required.ts).
 *
 * Threat: everything a client sends is untrusted, including a requestState it echoes: only one this
 * process signed for this package, version, tool and these arguments is accepted.
 */
import { ProtocolError } from '@modelcontextprotocol/server';
import type { CallToolRequest, CallToolResult, InputRequiredResult, ProtocolEra, RequestId, Server, ServerContext } from '@modelcontextprotocol/server';
import { boundedMessage, dlpActive, frameArgs } from '../../runtime/index.ts';
import type { RunOptions, Sandbox } from '../../runtime/index.ts';
import { HostError } from '../errors.ts';
import type { Audit } from './audit.ts';
import { createCallConsent } from './consent/call.ts';
import type { CallConsent } from './consent/call.ts';
import { consentChannel } from './consent/channel.ts';
import type { ConsentStore } from './consent/store.ts';
import { dlpScope } from './dlp.ts';
import { outcomeOf } from './features/run.ts';
import { forwardToolCall, isWrappedServer } from './features/server-forward.ts';
import type { Logger } from './logger.ts';
import { checkedResult, isPlainResultJson } from './output.ts';
import { MAX_ROUNDS, checkInputRequired, checkInputResponses, invalidState } from './protocol/input-required.ts';
import type { RoundState, StateBinding, StateCodec } from './protocol/input-required.ts';
import { progressForwarder } from './protocol/progress.ts';
import type { ProgressForwarder } from './protocol/progress.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { Redactor } from './redact.ts';
import type { Registry } from './registry.ts';
import type { ReplyJson } from './reply-json.ts';
import { notifyProgress, quarantinedError } from './request-context.ts';
import type { RequestLogs } from './request-context.ts';
import { WireError, toolErrorResult } from './tool-result.ts';
import { MAX_ARGUMENT_DEPTH, describeAjvError, nestsDeeperThan } from './validation.ts';

/** What the tools/call handler of one connection's server works with (host/serve/server.ts wires it). */
export interface ToolCallOptions {
  readonly registry: Registry;
  /** The packages out of service: a call to one of their tools fails with PACKAGE_QUARANTINED. */
  readonly quarantined?: Registry;
  readonly sandbox: Sandbox;
  readonly audit: Audit;
  readonly logger: Logger;
  readonly redact: Redactor;
  readonly limiter: RateLimiter | null;
  /** A tools/call's arguments as the client sent them, by request id (session.ts); absent: the parsed copy. */
  readonly argumentsOf?: (id: RequestId) => unknown;
  readonly consent?: ConsentStore;
  readonly requestStates: StateCodec;
  /** Settles when the packages are loaded. */
  readonly ready: Promise<unknown>;
  readonly era: ProtocolEra;
  /** The server instance: consent questions on 2025-11-25 are its requests to the client. */
  readonly server: Server;
  readonly callLog: RequestLogs;
  /** A large result's text serialized on the JSON thread while DLP scans it (reply-json.ts). */
  readonly replyJson?: ReplyJson;
}

export function toolCallHandler(options: ToolCallOptions): (request: CallToolRequest, ctx: ServerContext) => Promise<CallToolResult | InputRequiredResult> {
  const { registry, sandbox, audit, logger, redact, limiter, requestStates, ready, era, server, callLog } = options;
  /**
   * The arguments as received, by request (its signal): the SDK's 2025-11-25 shim calls the handler again
   * for the same request, with a fresh parse of it but the same signal, after an input-required result.
   * An entry goes as soon as the handler has settled any other way: a WeakMap's values survive every
   * young-generation GC (V8's scavenger keeps them whatever their key), so one left for the full GC made
   * each call's arguments outlive it and be copied and promoted (docs/performance-history.md, *Fifth pass: garbage per call*).
   */
  const receivedOf = new WeakMap<AbortSignal, unknown>();

  /** The consent question that ended the call (2026-07-28), as an input_required result; else undefined. */
  const consentRound = (consent: CallConsent | undefined, binding: StateBinding, round: RoundState | undefined): InputRequiredResult | undefined => {
    if (!consent) return undefined;
    const next = (round?.round ?? 0) + 1;
    const asking = consent.inputRequired(binding, requestStates, next);
    if (asking && next > MAX_ROUNDS) throw new HostError('INPUT_ROUNDS_EXCEEDED', `the call needed input more than ${MAX_ROUNDS} times`);
    return asking;
  };

  const handle = async (request: CallToolRequest, ctx: ServerContext, received: unknown): Promise<CallToolResult | InputRequiredResult> => {
    const name = request.params.name;
    // A call after an input-required result (protocol/input-required.ts): untrusted until verified below.
    const echoedState = ctx.mcpReq.requestState();
    const echoedResponses = ctx.mcpReq.inputResponses;
    await ready;
    const entry = registry.lookup(name);
    const held = entry ? undefined : options.quarantined?.lookup(name);
    if (held) {
      audit.call({ package: held.pkg.name, version: held.pkg.version, tool: held.tool.spec.name, argsDigest: 'unavailable', durationMs: 0, outcome: 'PACKAGE_QUARANTINED' });
      return toolErrorResult(quarantinedError(held.pkg.name), redact);
    }
    if (!entry) throw new WireError(-32602, `Unknown tool: ${boundedMessage(name, 128)}`);
    const { pkg, tool } = entry;
    const args = (options.argumentsOf ? received : request.params.arguments) ?? {};
    const started = performance.now();
    // The audit digest of the arguments, made once when first needed: before the call only to check an
    // echoed requestState; otherwise once the call is on its way, so its HMAC overlaps the worker's run.
    let argsJson: string | undefined;
    let binding: StateBinding | undefined;
    let argsDepthOk = false;
    const bindingOf = (): StateBinding => (binding ??= { package: pkg.name, version: pkg.version, tool: tool.spec.name, argsDigest: audit.digest(args, argsJson) });
    const recordedDigest = (): string => {
      if (!argsDepthOk) return 'unavailable';
      try {
        return bindingOf().argsDigest;
      } catch {
        return 'unavailable';
      }
    };
    const log = callLog(ctx, { package: pkg.name, handler: tool.spec.name });
    const dlp = dlpScope(audit, pkg, tool.spec.name); // DLP (host/serve/dlp.ts): result, log lines, error message
    let progress: ProgressForwarder | undefined;
    const finish = (outcome: string): void => {
      progress?.flush();
      log.finish();
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      audit.call({ package: pkg.name, version: pkg.version, tool: tool.spec.name, argsDigest: recordedDigest(), durationMs, outcome });
      if (logger.isLevelEnabled('debug')) logger.debug({ package: pkg.name, tool: tool.spec.name, durationMs, outcome }, 'call');
    };
    let consent: CallConsent | undefined;
    let round: RoundState | undefined;
    try {
      // Before anything recursive (the digest, ajv, the sandbox's copy): 100k levels would overflow the stack.
      if (nestsDeeperThan(args, MAX_ARGUMENT_DEPTH)) throw new HostError('INVALID_ARGUMENTS', `arguments nest deeper than ${MAX_ARGUMENT_DEPTH} levels`);
      argsDepthOk = true;
      // A state this process signed for this package, version, tool and these arguments, or -32602.
      if (echoedState !== undefined) round = requestStates.verify(echoedState, bindingOf());
      else if (echoedResponses !== undefined && Object.keys(echoedResponses).length > 0) throw invalidState();
      const responses = round ? checkInputResponses(echoedResponses, round) : undefined;
      if (limiter && !limiter.take(pkg.name)) throw new HostError('RATE_LIMITED', `too many calls to ${pkg.name}; try again shortly`);
      if (!tool.validateInput(args)) throw new HostError('INVALID_ARGUMENTS', describeAjvError(tool.validateInput.errors));
      // Capabilities asked at first use (host/serve/consent/call.ts): only for a package that has some.
      if (options.consent && (pkg.grant.ask !== undefined || round?.consent !== undefined)) {
        const channel = consentChannel(era, ctx, server);
        consent = await createCallConsent({ store: options.consent, pkg, tool: tool.spec.name, channel, signal: ctx.mcpReq.signal, ...(round ? { round } : {}), ...(responses ? { responses } : {}) });
      }
      progress = progressForwarder(request.params._meta?.progressToken, notifyProgress(ctx));
      const input = consent ? consent.toolInput : round && responses ? { responses, ...(round.toolState !== undefined ? { state: round.toolState } : {}) } : undefined;
      const runOptions: RunOptions = {
        signal: consent?.signal ?? ctx.mcpReq.signal,
        ...(progress ? { onProgress: progress.onProgress } : {}),
        onLog: (e) => log.onLog(dlp.logEvent(e)),
        onCapability: (e) => audit.capability(pkg.name, tool.spec.name, e),
        ...(input ? { input } : {}),
        ...(consent ? { consent: consent.hook } : {}),
      };
      // A wrapped MCP server gets the call as a JSON-RPC request (features/server-forward.ts); a tool package
      // its arguments' frame (runtime/call-args.ts: their JSON, which the audit digest then MACs too, unless
      // long strings travel raw), and a plain result's JSON back unparsed (output.ts). A round's arguments
      // travel in its envelope (runtime/pool/index.ts).
      const wrapped = isWrappedServer(pkg);
      const argsFrame = wrapped || input !== undefined ? undefined : frameArgs(args, pkg.limits.inputBytes);
      if (argsFrame?.raw === undefined) argsJson = argsFrame?.text;
      const running = wrapped
        ? forwardToolCall(sandbox, pkg, tool.spec.name, args, runOptions)
        : sandbox.run(pkg.code, tool.spec.name, args, pkg.grant, pkg.limits, { ...runOptions, ...(argsFrame ? { argsFrame } : {}), ...(tool.validateOutput ? {} : { keepJson: isPlainResultJson }) });
      // The call's frame is written by now (when a worker is free): the digest is made while it runs.
      const binding = whileRunning(running, bindingOf);
      const run = await running;
      const asking = consentRound(consent, binding, round);
      if (asking) {
        finish('CONSENT_ASKED');
        return asking;
      }
      if (run.inputRequired) {
        const asked = checkInputRequired(run.value);
        const next = (round?.round ?? 0) + 1;
        if (next > MAX_ROUNDS) throw new HostError('INPUT_ROUNDS_EXCEEDED', `the tool asked for input more than ${MAX_ROUNDS} times in one call`);
        const keys = Object.keys(asked.inputRequests ?? {});
        const requestState = requestStates.mint(binding, { ...(asked.toolState !== undefined ? { toolState: asked.toolState } : {}), keys, round: next });
        finish('INPUT_REQUIRED');
        return { resultType: 'input_required', ...(asked.inputRequests ? { inputRequests: asked.inputRequests } : {}), requestState };
      }
      const checked = checkedResult(tool, run.value, run.json);
      // A large text's JSON form is made on the JSON thread while DLP scans the text here (reply-json.ts).
      const early = dlpActive(dlp.policy) ? options.replyJson?.begin(checked) : undefined;
      const result = dlp.result(checked);
      await early?.ready(result);
      finish(result.isError ? 'TOOL_REPORTED_ERROR' : 'ok');
      return result;
    } catch (caught) {
      let e: unknown = caught;
      try {
        // A call ended to ask the user (2026-07-28) gets the question; a consent refusal its own code.
        const asking = consent ? consentRound(consent, bindingOf(), round) : undefined;
        if (asking) {
          finish('CONSENT_ASKED');
          return asking;
        }
        if (consent) e = consent.mapFailure(caught);
      } catch (failure) {
        e = failure;
      }
      finish(outcomeOf(e));
      try {
        return toolErrorResult(e, redact, dlp);
      } catch (fault) {
        if (!(e instanceof WireError) && !(e instanceof ProtocolError)) logger.error({ package: pkg.name, tool: tool.spec.name, err: { type: (e as Error)?.name, message: redact(boundedMessage((e as Error)?.message)) } }, 'host fault in tools/call');
        throw fault;
      }
    }
  };

  return async (request, ctx) => {
    // Taken first, whatever happens next: the session keeps each request's arguments until then.
    const signal = ctx.mcpReq.signal;
    const received = receivedOf.has(signal) ? receivedOf.get(signal) : options.argumentsOf?.(ctx.mcpReq.id);
    receivedOf.set(signal, received);
    let result: CallToolResult | InputRequiredResult | undefined;
    try {
      result = await handle(request, ctx, received);
      return result;
    } finally {
      // Kept only for the shim's next round of this request.
      if (result?.resultType !== 'input_required') receivedOf.delete(signal);
    }
  };
}

/**
 * `make()`, while the call `running` is under way. Should it throw, the call is left to settle unobserved
 * (its outcome no longer matters), so that its rejection is not reported as unhandled.
 */
function whileRunning<T>(running: Promise<unknown>, make: () => T): T {
  try {
    return make();
  } catch (e) {
    running.catch(() => undefined);
    throw e;
  }
}
