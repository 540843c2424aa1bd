/**
 * What a call runs in a package: a tool (the module's default export), a handler of one of its named
 * exports `resources`, `prompts`, `completions`, or (kind "rpc") the entry of a wrapped MCP server, the
 * named export `mcpServer`, whose handler `message` takes one JSON-RPC message as JSON text and returns
 * the answer as JSON text (docs/wrapping.md). The worker receives "<kind>:<name>" (the bootstrap's
 * dispatch splits it at the first ":"), so a name can never select another kind's handler.
 */
export const ENTRY_KINDS = ['tool', 'resource', 'prompt', 'completion', 'rpc'] as const;

/** The handler of a wrapped server's entry: runs with `kind: 'rpc'`, its args the JSON-RPC message. */
export const SERVER_ENTRY_HANDLER = 'message';

export type EntryKind = (typeof ENTRY_KINDS)[number];

/** The name the worker dispatches. */
export function entryName(kind: EntryKind, name: string): string {
  return `${kind}:${name}`;
}

/**
 * The name the worker dispatches for a tool call that follows the tool's `ctx.inputRequired`: the worker
 * unwraps its input `{ arguments, inputResponses, requestState }` (runtime/pool/index.ts).
 */
export function roundEntryName(tool: string): string {
  return `round:${tool}`;
}
