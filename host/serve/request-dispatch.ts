/**
 * Which requests the server answers, and how they reach the SDK: the params schema of each method (the
 * transport checks every request against it: host/serve/transport.ts), and the direct dispatch of a request
 * in the plain JSON-RPC envelope to the SDK's request handling, past its per-message classification.
 */
import { isSpecType } from '@modelcontextprotocol/server';
import type { JSONRPCMessage, Server, Transport } from '@modelcontextprotocol/server';
import type { RequestSchemaLike } from './transport.ts';

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
