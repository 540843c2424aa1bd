/**
 * Wires the MCP protocol to the registry, the feature handlers and the sandbox. Thin on purpose: validation
 * lives in the loader's compiled validators, execution in the sandbox, error mapping in tool-result.ts,
 * pagination, client logging and subscriptions in protocol/. tools/call is tool-call.ts; what each request
 * handler gets from its request (client log, progress) is request-context.ts; the request schemas and the
 * direct dispatch of plain requests to the SDK are request-dispatch.ts.
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
import { Server } from '@modelcontextprotocol/server';
import type { Implementation, ProtocolEra, RequestId, ServerCapabilities, ServerContext, ServerOptions, Transport } from '@modelcontextprotocol/server';
import { boundedMessage } from '../../runtime/index.ts';
import type { Sandbox } from '../../runtime/index.ts';
import type { Audit } from './audit.ts';
import type { CallContext, Features } from './features/call-context.ts';
import { featureError } from './features/run.ts';
import type { Logger } from './logger.ts';
import { MAX_ROUNDS, createStateCodec } from './protocol/input-required.ts';
import type { StateCodec } from './protocol/input-required.ts';
import type { Paginator } from './protocol/pagination.ts';
import { progressForwarder } from './protocol/progress.ts';
import type { Subscriptions } from './protocol/subscriptions.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { Redactor } from './redact.ts';
import type { Registry } from './registry.ts';
import type { ReplyJson } from './reply-json.ts';
import { dispatchRequestsDirectly } from './request-dispatch.ts';
import { notifyProgress, quarantinedError, requestLogs } from './request-context.ts';
import type { ConnectionState } from './request-context.ts';
import { guardLifecycle } from './session.ts';
import { WireError } from './tool-result.ts';
import type { ConsentStore } from './consent/store.ts';
import { toolCallHandler } from './tool-call.ts';

// host/commands/serve.ts gives the transport the request schemas from here, with the server they belong to.
export { REQUEST_SCHEMAS } from './request-dispatch.ts';

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
  /** A large result's text serialized on the JSON thread while DLP scans it (reply-json.ts); the transport's `line` must be this one's. */
  readonly replyJson?: ReplyJson;
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
  const callLog = requestLogs({ era, state, redact, logger });

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

  server.setRequestHandler(
    'tools/call',
    toolCallHandler({
      registry,
      ...(options.quarantined ? { quarantined: options.quarantined } : {}),
      sandbox,
      audit,
      logger,
      redact,
      limiter,
      ...(options.argumentsOf ? { argumentsOf: options.argumentsOf } : {}),
      ...(options.consent ? { consent: options.consent } : {}),
      ...(options.replyJson ? { replyJson: options.replyJson } : {}),
      requestStates: options.requestStates ?? PROCESS_STATES,
      ready,
      era,
      server,
      callLog,
    }),
  );

  return server;
}
