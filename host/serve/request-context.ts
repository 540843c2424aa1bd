/**
 * What every request handler of the server gets from its request (host/serve/server.ts,
 * host/serve/tool-call.ts): its client log (the client's threshold on each protocol revision, and the
 * host-side log of the same lines), its progress notifications, and the refusal of a request addressed to
 * a quarantined package.
 */
import { LOG_LEVEL_META_KEY } from '@modelcontextprotocol/server';
import type { ProtocolEra, ServerContext } from '@modelcontextprotocol/server';
import { boundedMessage } from '../../runtime/index.ts';
import type { LogEvent } from '../../runtime/index.ts';
import { HostError } from '../errors.ts';
import { hostLogLevel } from './features/run.ts';
import type { Logger } from './logger.ts';
import { createCallLog, isLoggingLevel } from './protocol/client-log.ts';
import type { CallLog, LoggingLevel } from './protocol/client-log.ts';
import type { ProgressParams } from './protocol/progress.ts';
import type { Redactor } from './redact.ts';

/** The state of one connection's server instance. */
export interface ConnectionState {
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

/** The client log of one request, and the host-side log of the same lines (`onLog`). */
export type RequestLog = CallLog & { onLog: (e: LogEvent) => void };
export type RequestLogs = (ctx: ServerContext, who: { package: string; handler: string }) => RequestLog;

/** Makes the client log of each request of one connection. */
export function requestLogs(options: { readonly era: ProtocolEra; readonly state: ConnectionState; readonly redact: Redactor; readonly logger: Logger }): RequestLogs {
  const { era, state, redact, logger } = options;
  return (ctx, who) => {
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
}

/** A request's progress notifications, to the client (thinned: protocol/progress.ts). */
export function notifyProgress(ctx: ServerContext): (params: ProgressParams) => void {
  return (params) => void ctx.mcpReq.notify({ method: 'notifications/progress', params }).catch(() => {});
}

/** The refusal of a request addressed to a quarantined package (features/run.ts maps it on the wire). */
export function quarantinedError(name: string): HostError {
  return new HostError('PACKAGE_QUARANTINED', `the package ${name} is quarantined; the user can re-enable it with "mcp-warden enable ${name}"`);
}
