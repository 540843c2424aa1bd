/**
 * What a feature handler (resources/read, prompts/get, completion/complete) receives from the protocol
 * layer for one request. PLACEHOLDER of the interface in DESIGN9.md §4: the CONTENT helper owns this file.
 */
import type { CompleteRequestParams, CompleteResult, GetPromptResult, Prompt, ReadResourceResult, Resource, ResourceTemplateType as ResourceTemplate } from '@modelcontextprotocol/server';
import type { LogEvent, ProgressEvent } from '../../../runtime/index.ts';

export interface CallContext {
  readonly signal: AbortSignal;
  /** A handler's ctx.log line (already bounded by the runtime); the protocol layer filters, rate-limits, redacts, sends. */
  readonly onLog?: (e: LogEvent) => void;
  readonly onProgress?: (e: ProgressEvent) => void;
}

export interface Features {
  listResources(): Resource[];
  listResourceTemplates(): ResourceTemplate[];
  readResource(uri: string, call: CallContext): Promise<ReadResourceResult>;
  listPrompts(): Prompt[];
  getPrompt(name: string, args: Record<string, string> | undefined, call: CallContext): Promise<GetPromptResult>;
  complete(params: CompleteRequestParams, call: CallContext): Promise<CompleteResult>;
  /** The package serving a URI (for subscriptions / resources/updated); undefined when none. */
  packageOfUri(uri: string): string | undefined;
}
