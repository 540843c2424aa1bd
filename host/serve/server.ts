/**
 * Wires the MCP protocol to the registry and the sandbox. Thin on purpose: validation lives in the
 * loader's compiled validators, execution in the sandbox, error mapping in tool-result.ts.
 *
 * Threat: everything a client sends is untrusted. Arguments are checked, as received (session.ts), for
 * depth and then against the tool's schema before they reach the sandbox; each package runs with its own
 * grant and limits (and, if the user set one, its own rate limit), so one package's failure (crash, limit,
 * hang) ends only its own call.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, InitializeRequestSchema, ListToolsRequestSchema, McpError, PingRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { boundedMessage, isSandboxError } from '../../runtime/index.ts';
import type { LogEvent, ProgressEvent, Sandbox } from '../../runtime/index.ts';
import type { Audit } from './audit.ts';
import { HostError, isHostError } from '../errors.ts';
import type { Logger } from './logger.ts';
import { toCallToolResult } from './output.ts';
import { createRateLimiter } from './rate-limit.ts';
import type { RateLimitOptions } from './rate-limit.ts';
import type { Redactor } from './redact.ts';
import type { Registry } from './registry.ts';
import { WireError, toolErrorResult } from './tool-result.ts';
import { MAX_ARGUMENT_DEPTH, describeAjvError, nestsDeeperThan } from './validation.ts';

export interface WardenServerOptions {
  readonly registry: Registry;
  readonly sandbox: Sandbox;
  readonly audit: Audit;
  readonly logger: Logger;
  readonly redact: Redactor;
  readonly version: string;
  /** A per-package call rate limit; none when absent (the default: calls queue instead, see rate-limit.ts). */
  readonly rateLimit?: RateLimitOptions;
  /**
   * A tools/call's arguments as the client sent them, by request id (session.ts): the SDK's parsed copy
   * drops an own `__proto__` key. Without it, the parsed copy is validated.
   */
  readonly argumentsOf?: (id: RequestId) => unknown;
  /** Settles when the packages are loaded: tools/list and tools/call wait for it, initialize does not. */
  readonly ready?: Promise<unknown>;
}

/** Progress notifications per call are thinned to at most one per this many ms (the last one always goes). */
const PROGRESS_INTERVAL_MS = 50;

type ProgressToken = string | number;
type SendNotification = (n: { method: 'notifications/progress'; params: { progressToken: ProgressToken; progress: number; total?: number; message?: string } }) => Promise<void>;

/** Forwards the sandbox's progress events as notifications/progress: increasing, thinned, bounded. */
function progressForwarder(token: ProgressToken | undefined, send: SendNotification): ((e: ProgressEvent) => void) | undefined {
  if (token === undefined) return undefined;
  let last = -Infinity;
  let lastAt = 0;
  return (e) => {
    if (!Number.isFinite(e.progress) || e.progress <= last) return;
    const now = performance.now();
    const final = e.total !== undefined && e.progress >= e.total;
    if (!final && now - lastAt < PROGRESS_INTERVAL_MS) return;
    last = e.progress;
    lastAt = now;
    const params: { progressToken: ProgressToken; progress: number; total?: number; message?: string } = { progressToken: token, progress: e.progress };
    if (e.total !== undefined && Number.isFinite(e.total)) params.total = e.total;
    if (typeof e.message === 'string') params.message = boundedMessage(e.message, 200);
    send({ method: 'notifications/progress', params }).catch(() => {});
  };
}

function outcomeOf(e: unknown): string {
  if (isSandboxError(e) || isHostError(e)) return e.code;
  if (e instanceof McpError || e instanceof WireError) return `JSONRPC_${e.code}`;
  return 'INTERNAL_ERROR';
}

/** The requests this server answers, by method: the transport checks their params (see transport.ts). */
export const REQUEST_SCHEMAS = Object.freeze({
  initialize: InitializeRequestSchema,
  ping: PingRequestSchema,
  'tools/list': ListToolsRequestSchema,
  'tools/call': CallToolRequestSchema,
});

export function createWardenServer(options: WardenServerOptions): Server {
  const { registry, sandbox, audit, logger, redact } = options;
  const limiter = options.rateLimit ? createRateLimiter(options.rateLimit) : null;
  const server = new Server(
    { name: 'mcp-warden', version: options.version },
    { capabilities: { tools: { listChanged: true } }, instructions: 'Tools served by mcp-warden run in a sandbox with only the capabilities the user granted.' },
  );

  const ready = options.ready?.catch(() => {}) ?? Promise.resolve();

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    await ready;
    return { tools: registry.list() };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const name = request.params.name;
    // Taken first, whatever happens next: the session keeps each request's arguments until then.
    const received = options.argumentsOf?.(extra.requestId);
    await ready;
    const entry = registry.lookup(name);
    if (!entry) throw new WireError(ErrorCode.InvalidParams, `Unknown tool: ${boundedMessage(name, 128)}`);
    const { pkg, tool } = entry;
    const args = (options.argumentsOf ? received : request.params.arguments) ?? {};
    const started = performance.now();
    let digest = 'unavailable';
    // The per-call child logger is made only when something is logged (most calls log nothing).
    let child: Logger | undefined;
    const log = (): Logger => (child ??= logger.child({ package: pkg.name, tool: tool.spec.name }));
    const finish = (outcome: string): void => {
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      audit.call({ package: pkg.name, version: pkg.version, tool: tool.spec.name, argsDigest: digest, durationMs, outcome });
      if (logger.isLevelEnabled('debug')) log().debug({ durationMs, outcome }, 'call');
    };
    try {
      // Before anything recursive (the digest, ajv, the sandbox's copy): 100k levels would overflow the stack.
      if (nestsDeeperThan(args, MAX_ARGUMENT_DEPTH)) throw new HostError('INVALID_ARGUMENTS', `arguments nest deeper than ${MAX_ARGUMENT_DEPTH} levels`);
      digest = audit.digest(args);
      if (limiter && !limiter.take(pkg.name)) throw new HostError('RATE_LIMITED', `too many calls to ${pkg.name}; try again shortly`);
      if (!tool.validateInput(args)) throw new HostError('INVALID_ARGUMENTS', describeAjvError(tool.validateInput.errors));
      const onLog = (e: LogEvent): void => {
        // Tool log lines are untrusted text: bounded, scrubbed, and without their data payload.
        const level = e.level === 'warning' ? 'warn' : e.level === 'debug' || e.level === 'info' || e.level === 'notice' ? 'debug' : 'error';
        log()[level]({ source: 'tool' }, redact(boundedMessage(e.message, 500)));
      };
      const run = await sandbox.run(pkg.code, tool.spec.name, args, pkg.grant, pkg.limits, {
        signal: extra.signal,
        onProgress: progressForwarder(request.params._meta?.progressToken, extra.sendNotification as SendNotification),
        onLog,
        onCapability: (e) => audit.capability(pkg.name, tool.spec.name, e),
      });
      const result = toCallToolResult(tool, run.value);
      finish(result.isError ? 'TOOL_REPORTED_ERROR' : 'ok');
      return result;
    } catch (e) {
      finish(outcomeOf(e));
      try {
        return toolErrorResult(e, redact);
      } catch (fault) {
        if (!(e instanceof McpError || e instanceof WireError)) log().error({ err: { type: (e as Error)?.name, message: redact(boundedMessage((e as Error)?.message)) } }, 'host fault in tools/call');
        throw fault;
      }
    }
  });

  return server;
}
