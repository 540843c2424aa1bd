/**
 * The one place errors become MCP: a tool failure (sandbox limit, denied capability, throw, invalid
 * arguments, output-schema mismatch, rate limit) is a CallToolResult with isError: true and a stable code;
 * only a host fault becomes a JSON-RPC error, and then a generic one (its detail goes to the host log).
 *
 * Threat: error messages are untrusted (a tool's own throw) or may carry host details; every message is
 * bounded and passed through the redactor, and an error object is never forwarded, only its code and text.
 */
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { boundedMessage, isSandboxError } from '../../runtime/index.ts';
import { isHostError } from '../errors.ts';
import type { HostErrorCode } from '../errors.ts';
import type { DlpScope } from './dlp.ts';
import type { Redactor } from './redact.ts';

/**
 * A JSON-RPC error for the wire: the SDK sends its `code`, bare `message` and `data` (when present) as the
 * error response. (The v1 SDK's McpError prefixed its message with "MCP error <code>: ", which a client
 * then repeated; this one always carries the bare message.)
 */
export class WireError extends Error {
  readonly code: number;
  readonly data?: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.name = 'WireError';
    if (data !== undefined) this.data = data;
  }
}

/** The _meta key carrying the machine-readable error of a failed call. */
export const ERROR_META_KEY = 'dev.mcp-warden/error';

/** Host codes that describe a failed tool call rather than a broken host. */
const TOOL_FAILURE_CODES: ReadonlySet<HostErrorCode> = new Set(['INVALID_ARGUMENTS', 'OUTPUT_SCHEMA_MISMATCH', 'RATE_LIMITED', 'INPUT_REQUEST_INVALID', 'INPUT_ROUNDS_EXCEEDED', 'PACKAGE_QUARANTINED', 'CONSENT_REQUIRED', 'CONSENT_REFUSED', 'CONSENT_DENIED', 'CONSENT_TIMEOUT', 'UNSUPPORTED_API', 'SERVER_ANSWER_INVALID']);

/**
 * Maps an error raised while serving tools/call. Returns the CallToolResult of a tool failure.
 * @throws WireError for a host fault (a JSON-RPC error with a generic message) or a JSON-RPC error passed in.
 */
export function toolErrorResult(error: unknown, redact: Redactor, dlp?: DlpScope): CallToolResult {
  if (error instanceof WireError) throw error;
  if (error instanceof ProtocolError) throw new WireError(error.code, error.message.replace(/^MCP error -?\d+: /, ''), error.data);
  let code: string;
  let retryable = false;
  if (isSandboxError(error)) {
    code = error.code;
    retryable = error.retryable;
  } else if (isHostError(error) && TOOL_FAILURE_CODES.has(error.code)) {
    code = error.code;
    retryable = error.code === 'RATE_LIMITED';
  } else {
    throw new WireError(ProtocolErrorCode.InternalError, 'Internal error');
  }
  const scrubbed = redact(boundedMessage((error as Error).message, 1024));
  // The package's DLP policy (host/serve/dlp.ts): a tool's own throw may carry the data it holds.
  const message = dlp === undefined ? scrubbed : dlp.text('error', scrubbed);
  return {
    isError: true,
    content: [{ type: 'text', text: `${code}: ${message}` }],
    _meta: { [ERROR_META_KEY]: { code, retryable } },
  };
}
