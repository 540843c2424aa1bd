/**
 * One way into the sandbox for everything a package serves besides a tool's result mapping: a resource
 * template's read, a prompt's or a completion's handler runs here with the package's grant and limits,
 * is audited (a `call` record with its kind), its log lines go to the host log and to the request, and
 * its failure becomes one JSON-RPC error with a stable code.
 *
 * Threat: the handler is untrusted code and its errors are untrusted text: every message is bounded and
 * redacted, an error object is never forwarded (only its code and text), and a host fault is reported
 * to the client as a generic internal error (its detail goes to the host log).
 */
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { SandboxError, boundedMessage, isSandboxError } from '../../../runtime/index.ts';
import type { EntryKind, LogEvent, Sandbox } from '../../../runtime/index.ts';
import { HostError, isHostError } from '../../errors.ts';
import type { HostErrorCode } from '../../errors.ts';
import type { Audit } from '../audit.ts';
import { dlpScope } from '../dlp.ts';
import type { DlpScope } from '../dlp.ts';
import type { LoadedPackage } from '../loader.ts';
import type { Logger } from '../logger.ts';
import type { RateLimiter } from '../rate-limit.ts';
import type { Redactor } from '../redact.ts';
import { WireError } from '../tool-result.ts';
import type { Registry } from '../registry.ts';
import type { CallContext } from './call-context.ts';

/** What the feature handlers use: the same objects the tools/call path has. */
export interface FeatureDeps {
  readonly registry: Registry;
  readonly sandbox: Sandbox;
  readonly audit: Audit;
  readonly logger: Logger;
  readonly redact: Redactor;
  /** serve --rate-limit: the same per-package limiter as tools/call (shared budget); none when absent. */
  readonly limiter?: RateLimiter;
}

/** The host log's level for a handler's log line (tool lines are untrusted; most go to debug). */
export function hostLogLevel(level: LogEvent['level']): 'debug' | 'warn' | 'error' {
  if (level === 'warning') return 'warn';
  return level === 'debug' || level === 'info' || level === 'notice' ? 'debug' : 'error';
}

/** Host codes a client gets as invalid params (its own request was wrong), not as a handler failure. */
const CLIENT_CODES: ReadonlySet<HostErrorCode> = new Set(['INVALID_ARGUMENTS']);
/** Host codes that describe a failed handler rather than a broken host. */
const HANDLER_CODES: ReadonlySet<HostErrorCode> = new Set(['RESOURCE_TOO_LARGE', 'RESULT_INVALID', 'RATE_LIMITED', 'INVALID_ARGUMENTS', 'PACKAGE_QUARANTINED']);

/**
 * The JSON-RPC error for a failure while serving a resource, prompt or completion.
 * ProtocolErrors (unknown prompt, resource not found) pass unchanged.
 */
export function featureError(e: unknown, deps: Pick<FeatureDeps, 'logger' | 'redact'>, what: string): ProtocolError {
  if (e instanceof ProtocolError) return e;
  let code: string;
  let retryable = false;
  if (isSandboxError(e)) {
    code = e.code;
    retryable = e.retryable;
  } else if (isHostError(e) && HANDLER_CODES.has(e.code)) {
    code = e.code;
    retryable = e.code === 'RATE_LIMITED';
  } else {
    deps.logger.error({ err: { type: (e as Error)?.name, message: deps.redact(boundedMessage((e as Error)?.message)) } }, `host fault in ${what}`);
    return new ProtocolError(ProtocolErrorCode.InternalError, 'Internal error');
  }
  const message = `${code}: ${deps.redact(boundedMessage((e as Error).message, 1024))}`;
  const wire = isHostError(e) && CLIENT_CODES.has(e.code) ? ProtocolErrorCode.InvalidParams : ProtocolErrorCode.InternalError;
  return new ProtocolError(wire, message, { code, retryable });
}

/** The outcome an audit record gives a failed call or handler: its stable code, or its JSON-RPC code. */
export function outcomeOf(e: unknown): string {
  if (isSandboxError(e) || isHostError(e)) return e.code;
  if (e instanceof WireError || e instanceof ProtocolError) return `JSONRPC_${e.code}`;
  return 'INTERNAL_ERROR';
}

export interface SandboxCall<T> {
  readonly pkg: LoadedPackage;
  readonly kind: Exclude<EntryKind, 'tool' | 'rpc'>;
  /** The handler's name in the module's named export. */
  readonly handler: string;
  readonly input: unknown;
  /**
   * Checks the handler's value and returns what is served; a HostError it throws is the call's outcome
   * (audited as such).
   */
  readonly accept: (value: unknown) => T;
}

/** The error with its message under the package's DLP policy: a handler's throw may carry the data it holds. */
function scrubbedError(e: unknown, dlp: DlpScope): unknown {
  if (isSandboxError(e)) {
    const message = dlp.text('error', e.message);
    return message === e.message ? e : new SandboxError(e.code, message);
  }
  if (isHostError(e)) {
    const message = dlp.text('error', e.message);
    return message === e.message ? e : new HostError(e.code, message);
  }
  return e;
}

/**
 * Runs a handler in the sandbox as a tool call runs: the package's grant and limits, cancellation,
 * progress, its log lines to the host log (bounded, redacted) and to `call.onLog`, capability uses and
 * the outcome to the audit trail.
 * @throws the SandboxError or HostError of the failure (featureError maps it)
 */
export async function runInSandbox<T>(deps: FeatureDeps, c: SandboxCall<T>, call: CallContext): Promise<T> {
  const { pkg, kind, handler } = c;
  const started = performance.now();
  let digest = 'unavailable';
  let child: Logger | undefined;
  const dlp = dlpScope(deps.audit, pkg, handler);
  const log = (): Logger => (child ??= deps.logger.child({ package: pkg.name, [kind]: handler }));
  const finish = (outcome: string): void => {
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    deps.audit.call({ package: pkg.name, version: pkg.version, tool: handler, kind, argsDigest: digest, durationMs, outcome });
  };
  try {
    digest = deps.audit.digest(c.input);
    if (deps.limiter && !deps.limiter.take(pkg.name)) throw new HostError('RATE_LIMITED', `too many calls to ${pkg.name}; try again shortly`);
    const onLog = (raw: LogEvent): void => {
      // DLP first (host/serve/dlp.ts), for the host log and the client alike.
      const e = dlp.logEvent(raw);
      // Handler log lines are untrusted text: bounded, scrubbed, and without their data payload.
      log()[hostLogLevel(e.level)]({ source: 'tool' }, deps.redact(boundedMessage(e.message, 500)));
      call.onLog?.(e);
    };
    const run = await deps.sandbox.run(pkg.code, handler, c.input, pkg.grant, pkg.limits, {
      kind,
      signal: call.signal,
      onLog,
      ...(call.onProgress ? { onProgress: call.onProgress } : {}),
      onCapability: (e) => deps.audit.capability(pkg.name, handler, e),
    });
    // DLP on the handler's value (its own copy, parsed from JSON) before it is checked and served.
    const value = c.accept(dlp.result(run.value));
    finish('ok');
    return value;
  } catch (e) {
    finish(outcomeOf(e));
    throw scrubbedError(e, dlp);
  }
}
