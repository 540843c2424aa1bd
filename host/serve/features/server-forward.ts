/**
 * Forwarding to a wrapped MCP server (docs/wrapping.md): a package whose manifest has a `server` entry
 * runs the server's own code in its isolate, reached through the runtime's entry kind "rpc". The host has
 * already done its own work (the tool's schema validated the arguments, the audit and DLP scopes are
 * open); this sends one JSON-RPC request, as JSON text, and turns the server's answer into what the
 * caller expects.
 *
 * Threat: the answer comes from untrusted code. Only its `result` or `error` is read; a result keeps only
 * the CallToolResult keys (and is checked against the MCP schema by output.ts afterwards); an error
 * becomes a tool error with the server's message, bounded — or UNSUPPORTED_API when the in-isolate side
 * marked the call as having reached an API the sandbox does not serve.
 */
import { SERVER_ENTRY_HANDLER, boundedMessage } from '../../../runtime/index.ts';
import type { RunOptions, RunResult, Sandbox } from '../../../runtime/index.ts';
import { HostError } from '../../errors.ts';
import type { LoadedPackage } from '../loader.ts';

const RESULT_KEYS = ['content', 'structuredContent', 'isError'] as const;

/** Whether calls of `pkg` go to a wrapped server. */
export function isWrappedServer(pkg: LoadedPackage): boolean {
  return pkg.server !== undefined;
}

function answerOf(value: unknown, method: string): { result?: unknown; error?: { message: string; data?: unknown } } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HostError('SERVER_ANSWER_INVALID', `the wrapped server answered ${method} with no JSON-RPC object`);
  const v = value as { result?: unknown; error?: unknown };
  if (v.error !== undefined) {
    const e = v.error as { message?: unknown; data?: unknown } | null;
    const message = e !== null && typeof e === 'object' && typeof e.message === 'string' ? e.message : 'the server reported an error';
    return { error: { message: boundedMessage(message), ...(e !== null && typeof e === 'object' ? { data: e.data } : {}) } };
  }
  if (v.result === null || typeof v.result !== 'object' || Array.isArray(v.result)) throw new HostError('SERVER_ANSWER_INVALID', `the wrapped server answered ${method} with no result object`);
  return { result: v.result };
}

/**
 * Sends `method` with `params` to the wrapped server of `pkg` and returns its result object.
 * @throws HostError UNSUPPORTED_API, SERVER_ANSWER_INVALID; SandboxError (limits, crashes) as any call
 */
export async function forwardRequest(sandbox: Sandbox, pkg: LoadedPackage, method: string, params: Record<string, unknown>, options: RunOptions): Promise<{ result: Record<string, unknown> | undefined; error?: string; run: RunResult }> {
  const run = await sandbox.run(pkg.code, SERVER_ENTRY_HANDLER, { jsonrpc: '2.0', id: 1, method, params }, pkg.grant, pkg.limits, { ...options, kind: 'rpc' });
  const answer = answerOf(run.value, method);
  if (answer.error !== undefined) {
    const data = answer.error.data as { code?: unknown; api?: unknown } | undefined;
    if (data !== null && typeof data === 'object' && data.code === 'UNSUPPORTED_API') {
      throw new HostError('UNSUPPORTED_API', `the server called ${boundedMessage(String(data.api), 200)}, which the sandbox does not serve (docs/wrapping.md)`);
    }
    return { result: undefined, error: answer.error.message, run };
  }
  return { result: answer.result as Record<string, unknown>, run };
}

/**
 * A tools/call forwarded: the server's CallToolResult (only its content, structuredContent and isError);
 * a JSON-RPC error of the server becomes a result with isError, as the MCP SDK reports tool errors.
 */
export async function forwardToolCall(sandbox: Sandbox, pkg: LoadedPackage, tool: string, args: unknown, options: RunOptions): Promise<RunResult> {
  const { result, error, run } = await forwardRequest(sandbox, pkg, 'tools/call', { name: tool, arguments: args }, options);
  if (result === undefined) return { ...run, value: { content: [{ type: 'text', text: error ?? 'the server reported an error' }], isError: true } };
  const value: Record<string, unknown> = {};
  for (const k of RESULT_KEYS) if (result[k] !== undefined) value[k] = result[k];
  if (value.content === undefined) value.content = [];
  return { ...run, value };
}
