/**
 * The contract between the protocol layer (host/serve/server.ts) and the feature handlers of
 * host/serve/features/: what one request carries into a handler, and what the handlers offer.
 */
import type { CompleteRequestParams, CompleteResult, GetPromptResult, Prompt, ReadResourceResult, Resource, ResourceTemplateType } from '@modelcontextprotocol/server';
import type { LogEvent, ProgressEvent } from '../../../runtime/index.ts';

export interface CallContext {
  readonly signal: AbortSignal;
  /** A handler's ctx.log line (already bounded by the runtime); the protocol layer filters, rate-limits, redacts, sends. */
  readonly onLog?: (e: LogEvent) => void;
  readonly onProgress?: (e: ProgressEvent) => void;
}

/**
 * Resources, prompts and completions of the served packages. Lists are full (the protocol layer
 * paginates). Failures are thrown as the SDK's ProtocolError: -32602 (InvalidParams) for an unknown
 * prompt or invalid arguments, ResourceNotFoundError for an unknown URI, -32603 with
 * `data: { code, retryable }` (docs/errors.md) for a failed handler; the message is bounded and redacted.
 */
export interface Features {
  listResources(): Resource[];
  listResourceTemplates(): ResourceTemplateType[];
  readResource(uri: string, call: CallContext): Promise<ReadResourceResult>;
  listPrompts(): Prompt[];
  getPrompt(name: string, args: Record<string, string> | undefined, call: CallContext): Promise<GetPromptResult>;
  complete(params: CompleteRequestParams, call: CallContext): Promise<CompleteResult>;
  /** The package serving a URI (for subscriptions / resources/updated); undefined when none. */
  packageOfUri(uri: string): string | undefined;
}
