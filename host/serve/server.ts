/**
 * Wires the MCP protocol to the registry, the feature handlers and the sandbox. Thin on purpose: validation
 * lives in the loader's compiled validators, execution in the sandbox, error mapping in tool-result.ts,
 * pagination, client logging and subscriptions in protocol/.
 *
 * One function builds the SDK v2 `Server` for either protocol revision: `serveStdio` (host/commands/serve.ts)
 * calls it once per connection with the era the client opened with (2025-11-25 `initialize`, or 2026-07-28
 * per-request `_meta`); the SDK's era codec does the rest (handshake, `server/discover`, envelopes,
 * `resultType`, the methods each revision has).
 *
 * Threat: everything a client sends is untrusted. Arguments are checked, as received (session.ts), for
 * depth and then against the tool's schema before they reach the sandbox; each package runs with its own
 * grant and limits (and, if the user set one, its own rate limit), so one package's failure (crash, limit,
 * hang) ends only its own call.
 */
import { LOG_LEVEL_META_KEY, ProtocolError, Server, isSpecType } from '@modelcontextprotocol/server';
import type { CallToolResult, InputRequiredResult, Implementation, JSONRPCMessage, ProtocolEra, RequestId, ServerCapabilities, ServerContext, ServerOptions, Transport } from '@modelcontextprotocol/server';
import { boundedMessage } from '../../runtime/index.ts';
import type { LogEvent, RunOptions, Sandbox } from '../../runtime/index.ts';
import type { Audit } from './audit.ts';
import { HostError } from '../errors.ts';
import type { CallContext, Features } from './features/call-context.ts';
import { featureError, hostLogLevel, outcomeOf } from './features/run.ts';
import { forwardToolCall, isWrappedServer } from './features/server-forward.ts';
import type { Logger } from './logger.ts';
import { dlpScope } from './dlp.ts';
import { isPlainResultJson, toCallToolResult } from './output.ts';
import { createCallLog, isLoggingLevel } from './protocol/client-log.ts';
import type { CallLog, LoggingLevel } from './protocol/client-log.ts';
import { MAX_ROUNDS, checkInputRequired, checkInputResponses, createStateCodec, invalidState } from './protocol/input-required.ts';
import type { RoundState, StateBinding, StateCodec } from './protocol/input-required.ts';
import type { Paginator } from './protocol/pagination.ts';
import { progressForwarder } from './protocol/progress.ts';
import type { ProgressForwarder, ProgressParams } from './protocol/progress.ts';
import type { Subscriptions } from './protocol/subscriptions.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { Redactor } from './redact.ts';
import type { Registry } from './registry.ts';
import { guardLifecycle } from './session.ts';
import type { RequestSchemaLike } from './transport.ts';
import { WireError, toolErrorResult } from './tool-result.ts';
import { createCallConsent } from './consent/call.ts';
import type { CallConsent } from './consent/call.ts';
import { consentChannel } from './consent/channel.ts';
import type { ConsentStore } from './consent/store.ts';
import { MAX_ARGUMENT_DEPTH, describeAjvError, nestsDeeperThan } from './validation.ts';

export interface WardenServerOptions {
  readonly registry: Registry;
  readonly sandbox: Sandbox;
  readonly audit: Audit;
  readonly logger: Logger;
  readonly redact: Redactor;
  readonly version: string;
  /** Resources, resource templates, prompts and completions (host/serve/features). */
  readonly features: Features;
  /** Pages every list method. */
  readonly paginator: Paginator;
  /** The version of the served lists: bumped whenever a reload changes them (cursors of an older one are refused). */
  readonly listVersion: () => number;
  /** The resources/subscribe subscriptions of the connection (2025-11-25). */
  readonly subscriptions: Subscriptions;
  /** A per-package call rate limit; none when absent (the default: calls queue instead, see rate-limit.ts). */
  readonly limiter?: RateLimiter;
  /**
   * A tools/call's arguments as the client sent them, by request id (session.ts): the SDK's parsed copy
   * drops an own `__proto__` key. Without it, the parsed copy is validated.
   */
  readonly argumentsOf?: (id: RequestId) => unknown;
  /** Settles when the packages are loaded: the list, call, read and get methods wait for it; initialize does not. */
  readonly ready?: Promise<unknown>;
  /**
   * The packages out of service (host/serve/quarantine.ts): not listed; a request addressed to one of
   * them fails with PACKAGE_QUARANTINED instead of "unknown".
   */
  readonly quarantined?: Registry;
  /** Signs and checks the requestState of input-required results; one per process by default. */
  readonly requestStates?: StateCodec;
  /** Answers to capabilities asked at first use (docs/consent.md); absent: they are refused with CONSENT_REQUIRED. */
  readonly consent?: ConsentStore;
}

/** The requestState codec of this process (its key lives in memory only: a restart refuses older states). */
const PROCESS_STATES = createStateCodec();

/** What this server declares, on both revisions. */
export const CAPABILITIES: ServerCapabilities = Object.freeze({
  tools: { listChanged: true },
  resources: { subscribe: true, listChanged: true },
  prompts: { listChanged: true },
  completions: {},
  logging: {},
});

/** A request's progress notifications, to the client (thinned: protocol/progress.ts). */
function notifyProgress(ctx: ServerContext): (params: ProgressParams) => void {
  return (params) => void ctx.mcpReq.notify({ method: 'notifications/progress', params }).catch(() => {});
}

/** The requests this server answers, by method: the transport checks their params (see transport.ts). */
export const REQUEST_SCHEMAS: Readonly<Record<string, RequestSchemaLike>> = Object.freeze({
  initialize: isSpecType.InitializeRequest,
  ping: isSpecType.PingRequest,
  'server/discover': isSpecType.DiscoverRequest,
  'tools/list': isSpecType.ListToolsRequest,
  'tools/call': isSpecType.CallToolRequest,
  'resources/list': isSpecType.ListResourcesRequest,
  'resources/templates/list': isSpecType.ListResourceTemplatesRequest,
  'resources/read': isSpecType.ReadResourceRequest,
  'resources/subscribe': isSpecType.SubscribeRequest,
  'resources/unsubscribe': isSpecType.UnsubscribeRequest,
  'prompts/list': isSpecType.ListPromptsRequest,
  'prompts/get': isSpecType.GetPromptRequest,
  'completion/complete': isSpecType.CompleteRequest,
  'logging/setLevel': isSpecType.SetLevelRequest,
});

/** The state of one connection's server instance. */
interface ConnectionState {
  /** The level of the client's last logging/setLevel (2025-11-25). */
  level?: LoggingLevel;
}

/**
 * The threshold for log lines to the client during one request: the request's `_meta` log level on
 * 2026-07-28 (none: no logs), the last logging/setLevel on 2025-11-25 (none yet: every level).
 */
function logThreshold(era: ProtocolEra, ctx: ServerContext, state: ConnectionState): LoggingLevel | undefined {
  if (era === 'modern') {
    const level = ctx.mcpReq.envelope?.[LOG_LEVEL_META_KEY as keyof typeof ctx.mcpReq.envelope];
    return isLoggingLevel(level) ? level : undefined;
  }
  return state.level ?? 'debug';
}

/** The SDK's Server, held to the 2025-11-25 lifecycle when it serves that era (session.ts). */
class WardenServer extends Server {
  readonly #era: ProtocolEra;
  constructor(info: Implementation, options: ServerOptions, era: ProtocolEra) {
    super(info, options);
    this.#era = era;
  }

  override async connect(transport: Transport): Promise<void> {
    const before = transport.onmessage;
    await super.connect(transport);
    if (before === undefined) dispatchRequestsDirectly(this, transport);
    if (this.#era === 'legacy') guardLifecycle(transport);
  }
}

/**
 * A request in the plain JSON-RPC envelope: jsonrpc "2.0", a string or safe-integer id, a string method,
 * params absent or an object, nothing else. The stdio transport delivers no other request (transport.ts
 * checks each against the spec's strict schemas, or the envelope and its method's params schema).
 */
function isPlainRequest(m: JSONRPCMessage): boolean {
  const r = m as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  if (r.jsonrpc !== '2.0' || typeof r.method !== 'string' || !(typeof r.id === 'string' || Number.isSafeInteger(r.id))) return false;
  if (r.params !== undefined && (r.params === null || typeof r.params !== 'object' || Array.isArray(r.params))) return false;
  for (const k in r) if (k !== 'jsonrpc' && k !== 'id' && k !== 'method' && k !== 'params') return false;
  return true;
}

/**
 * The SDK's Protocol.connect classifies each inbound message with three zod parses (a result response?
 * an error response? a request?) before it dispatches a request; the two that fail build zod issue lists
 * (~12 µs per request, hot). A request in the plain envelope is handed to the SDK's request dispatch
 * (`_onrequest`, which then does all it did: era and method checks, the method's schema, the handler)
 * directly; every other message takes the SDK's own path. Where the SDK has no `_onrequest` (another
 * version), nothing changes.
 */
export function dispatchRequestsDirectly(server: Server, transport: Transport): void {
  const sdk = transport.onmessage;
  const onrequest = (server as unknown as { _onrequest?: unknown })._onrequest;
  if (sdk === undefined || typeof onrequest !== 'function') return;
  transport.onmessage = (message, extra) => {
    if (isPlainRequest(message)) (onrequest as (m: JSONRPCMessage, e: unknown) => void).call(server, message, extra);
    else sdk(message, extra);
  };
}

export function createWardenServer(options: WardenServerOptions, era: ProtocolEra = 'legacy'): Server {
  const { registry, sandbox, audit, logger, redact, features, paginator, listVersion, subscriptions } = options;
  const limiter = options.limiter ?? null;
  const state: ConnectionState = {};
  const server = new WardenServer(
    { name: 'mcp-warden', version: options.version },
    {
      capabilities: { ...CAPABILITIES },
      instructions: 'Tools, resources and prompts served by mcp-warden run in a sandbox with only the capabilities the user granted.',
      // A tool's ctx.inputRequired: on 2025-11-25 the SDK's shim asks the client with real requests and calls
      // the tool again, at most MAX_ROUNDS times; on 2026-07-28 the client does (protocol/input-required.ts).
      inputRequired: { maxRounds: MAX_ROUNDS },
    },
    era,
  );

  const ready = options.ready?.catch(() => {}) ?? Promise.resolve();

  /** The client log of one request, and the host-side log of the same lines. */
  const callLog = (ctx: ServerContext, who: { package: string; handler: string }): CallLog & { onLog: (e: LogEvent) => void } => {
    const sink = createCallLog({
      threshold: logThreshold(era, ctx, state),
      redact,
      logger: `${who.package}/${who.handler}`,
      send: (params) => void ctx.mcpReq.notify({ method: 'notifications/message', params }).catch(() => {}),
    });
    let child: Logger | undefined;
    return {
      ...sink,
      onLog: (e) => {
        // Host side: bounded, scrubbed, without the data payload (host logs stay on stderr/--log-file).
        (child ??= logger.child({ package: who.package, handler: who.handler }))[hostLogLevel(e.level)]({ source: 'tool' }, redact(boundedMessage(e.message, 500)));
        sink.log(e);
      },
    };
  };

  server.setRequestHandler('logging/setLevel', (request) => {
    state.level = request.params.level;
    return {};
  });

  const cursorOf = (params: unknown): string | undefined => (params as { cursor?: string } | undefined)?.cursor;

  server.setRequestHandler('tools/list', async (request) => {
    await ready;
    const page = paginator.page(registry.list(), cursorOf(request.params), listVersion(), 'tools/list');
    return { tools: page.items, ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}) };
  });

  server.setRequestHandler('resources/list', async (request) => {
    await ready;
    const page = paginator.page(features.listResources(), cursorOf(request.params), listVersion(), 'resources/list');
    return { resources: page.items, ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}) };
  });

  server.setRequestHandler('resources/templates/list', async (request) => {
    await ready;
    const page = paginator.page(features.listResourceTemplates(), cursorOf(request.params), listVersion(), 'resources/templates/list');
    return { resourceTemplates: page.items, ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}) };
  });

  server.setRequestHandler('prompts/list', async (request) => {
    await ready;
    const page = paginator.page(features.listPrompts(), cursorOf(request.params), listVersion(), 'prompts/list');
    return { prompts: page.items, ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}) };
  });

  /** The CallContext of a feature request: its signal, its client log, its progress. */
  const featureCall = <T>(ctx: ServerContext, who: { package: string; handler: string }, progressToken: unknown, run: (call: CallContext) => Promise<T>): Promise<T> => {
    const log = callLog(ctx, who);
    const progress = progressForwarder(progressToken, notifyProgress(ctx));
    // The host-side log line is written by runInSandbox (features/run.ts): only the client's here.
    return run({ signal: ctx.mcpReq.signal, onLog: (e) => log.log(e), ...(progress ? { onProgress: progress.onProgress } : {}) }).finally(() => {
      progress?.flush();
      log.finish();
    });
  };

  /** The refusal of a request addressed to a quarantined package (features/run.ts maps it on the wire). */
  const quarantinedError = (name: string): HostError => new HostError('PACKAGE_QUARANTINED', `the package ${name} is quarantined; the user can re-enable it with "mcp-warden enable ${name}"`);

  server.setRequestHandler('resources/read', async (request, ctx) => {
    await ready;
    const uri = request.params.uri;
    const held = registry.resolveUri(uri) ? undefined : options.quarantined?.resolveUri(uri);
    if (held) throw featureError(quarantinedError(held.pkg.name), { logger, redact }, 'resources/read');
    return featureCall(ctx, { package: features.packageOfUri(uri) ?? '-', handler: 'resources/read' }, request.params._meta?.progressToken, (call) => features.readResource(uri, call));
  });

  server.setRequestHandler('prompts/get', async (request, ctx) => {
    await ready;
    const { name } = request.params;
    const held = registry.lookupPrompt(name) ? undefined : options.quarantined?.lookupPrompt(name);
    if (held) throw featureError(quarantinedError(held.pkg.name), { logger, redact }, 'prompts/get');
    return featureCall(ctx, { package: '-', handler: `prompts/get ${boundedMessage(name, 128)}` }, request.params._meta?.progressToken, (call) => features.getPrompt(name, request.params.arguments, call));
  });

  server.setRequestHandler('completion/complete', async (request, ctx) => {
    await ready;
    return featureCall(ctx, { package: '-', handler: 'completion/complete' }, request.params._meta?.progressToken, (call) => features.complete(request.params, call));
  });

  // 2025-11-25 only (2026-07-28 replaced them with subscriptions/listen, which serveStdio serves itself).
  server.setRequestHandler('resources/subscribe', async (request) => {
    await ready;
    const uri = request.params.uri;
    const pkg = features.packageOfUri(uri);
    if (pkg === undefined) throw new WireError(-32002, 'Resource not found', { uri });
    if (!subscriptions.add(uri, pkg)) throw new WireError(-32602, `Too many resource subscriptions (at most ${subscriptions.limit}); unsubscribe first`);
    return {};
  });

  server.setRequestHandler('resources/unsubscribe', async (request) => {
    subscriptions.remove(request.params.uri);
    return {};
  });

  const requestStates = options.requestStates ?? PROCESS_STATES;
  /**
   * The arguments as received, by request (its signal): the SDK's 2025-11-25 shim calls the handler again
   * for the same request, with a fresh parse of it but the same signal.
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

  server.setRequestHandler('tools/call', async (request, ctx): Promise<CallToolResult | InputRequiredResult> => {
    const name = request.params.name;
    // Taken first, whatever happens next: the session keeps each request's arguments until then.
    const signal = ctx.mcpReq.signal;
    const received = receivedOf.has(signal) ? receivedOf.get(signal) : options.argumentsOf?.(ctx.mcpReq.id);
    receivedOf.set(signal, received);
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
    let digest = 'unavailable';
    const log = callLog(ctx, { package: pkg.name, handler: tool.spec.name });
    const dlp = dlpScope(audit, pkg, tool.spec.name); // DLP (host/serve/dlp.ts): result, log lines, error message
    let progress: ProgressForwarder | undefined;
    const finish = (outcome: string): void => {
      progress?.flush();
      log.finish();
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      audit.call({ package: pkg.name, version: pkg.version, tool: tool.spec.name, argsDigest: digest, durationMs, outcome });
      if (logger.isLevelEnabled('debug')) logger.debug({ package: pkg.name, tool: tool.spec.name, durationMs, outcome }, 'call');
    };
    let consent: CallConsent | undefined;
    let binding: StateBinding | undefined;
    let round: RoundState | undefined;
    try {
      // Before anything recursive (the digest, ajv, the sandbox's copy): 100k levels would overflow the stack.
      if (nestsDeeperThan(args, MAX_ARGUMENT_DEPTH)) throw new HostError('INVALID_ARGUMENTS', `arguments nest deeper than ${MAX_ARGUMENT_DEPTH} levels`);
      const argsJson = JSON.stringify(args); // serialized once: the audit digest and the sandbox's frame
      digest = audit.digest(args, argsJson);
      binding = { package: pkg.name, version: pkg.version, tool: tool.spec.name, argsDigest: digest };
      // A state this process signed for this package, version, tool and these arguments, or -32602.
      if (echoedState !== undefined) round = requestStates.verify(echoedState, binding);
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
      // its arguments as the JSON the host already made, and a plain result's JSON back unparsed (output.ts).
      const run = isWrappedServer(pkg)
        ? await forwardToolCall(sandbox, pkg, tool.spec.name, args, runOptions)
        : await sandbox.run(pkg.code, tool.spec.name, args, pkg.grant, pkg.limits, { ...runOptions, argsJson, ...(tool.validateOutput ? {} : { keepJson: isPlainResultJson }) });
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
      const result = toCallToolResult(tool, run.value, dlp, run.json);
      finish(result.isError ? 'TOOL_REPORTED_ERROR' : 'ok');
      return result;
    } catch (caught) {
      let e: unknown = caught;
      try {
        // A call ended to ask the user (2026-07-28) gets the question; a consent refusal its own code.
        const asking = binding ? consentRound(consent, binding, round) : undefined;
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
  });

  return server;
}
