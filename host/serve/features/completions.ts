/**
 * completion/complete for a prompt's argument (ref/prompt) or a resource template's variable
 * (ref/resource): a static list from the manifest filtered by what the user typed, or the values a
 * completion handler produces in the sandbox (kind 'completion').
 *
 * Threat: the request is the client's, the handler's value the package's: values must be strings,
 * bounded in length, at most 100 are sent (hasMore set when more were offered), the totals checked.
 */
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { CompleteRequestParams, CompleteResult } from '@modelcontextprotocol/server';
import { boundedMessage } from '../../../runtime/index.ts';
import { HostError } from '../../errors.ts';
import type { CompletionSpec } from '../../manifest-content.ts';
import type { LoadedPackage } from '../loader.ts';
import type { CallContext } from './call-context.ts';
import { featureError, runInSandbox } from './run.ts';
import type { FeatureDeps } from './run.ts';

/** MCP's cap on the values of one completion. */
export const MAX_COMPLETION_VALUES = 100;
/** Longest completion value, characters. */
export const MAX_COMPLETION_VALUE_CHARS = 1024;
/** Longest typed value passed to a handler, characters. */
const MAX_TYPED_CHARS = 4096;

const EMPTY: CompleteResult = { completion: { values: [], total: 0, hasMore: false } };

function invalidParams(message: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, message);
}

function bad(why: string): HostError {
  return new HostError('RESULT_INVALID', `the completion handler returned ${why}`);
}

/** A static list's completion: the values starting with what was typed. */
export function staticCompletion(values: readonly string[], typed: string): CompleteResult {
  const hits = values.filter((v) => v.startsWith(typed)).slice(0, MAX_COMPLETION_VALUES);
  return { completion: { values: hits, total: hits.length, hasMore: false } };
}

/**
 * A completion handler's value: an array of strings, or { values, total?, hasMore? }.
 * @throws HostError RESULT_INVALID
 */
export function handlerCompletion(value: unknown): CompleteResult {
  let values: unknown;
  let total: unknown;
  let hasMore: unknown;
  if (Array.isArray(value)) values = value;
  else if (value !== null && typeof value === 'object') ({ values, total, hasMore } = value as Record<string, unknown>);
  if (!Array.isArray(values)) throw bad('no array of values');
  if (values.length > 10 * MAX_COMPLETION_VALUES) throw bad(`more than ${10 * MAX_COMPLETION_VALUES} values`);
  for (const v of values) if (typeof v !== 'string' || v.length > MAX_COMPLETION_VALUE_CHARS) throw bad(`a value that is not a string of at most ${MAX_COMPLETION_VALUE_CHARS} characters`);
  const sent = (values as string[]).slice(0, MAX_COMPLETION_VALUES);
  const cut = values.length > sent.length;
  const completion: CompleteResult['completion'] = { values: sent, hasMore: cut || hasMore === true };
  if (typeof total === 'number' && Number.isSafeInteger(total) && total >= values.length) completion.total = total;
  else if (total === undefined && !completion.hasMore) completion.total = values.length;
  return { completion };
}

function contextArguments(params: CompleteRequestParams): Record<string, string> {
  const raw = params.context?.arguments;
  // No prototype: an argument may be named "__proto__".
  const out = Object.create(null) as Record<string, string>;
  if (raw === null || typeof raw !== 'object') return out;
  for (const [k, v] of Object.entries(raw).slice(0, 32)) if (typeof v === 'string' && k.length <= 64) out[k] = v.slice(0, MAX_TYPED_CHARS);
  return out;
}

/** completion/complete. @throws ProtocolError */
export async function complete(deps: FeatureDeps, params: CompleteRequestParams, call: CallContext): Promise<CompleteResult> {
  const ref = params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
  const argument = params?.argument as { name?: unknown; value?: unknown } | undefined;
  if (typeof argument?.name !== 'string' || typeof argument.value !== 'string') throw invalidParams('argument must have a name and a value (strings)');
  let pkg: LoadedPackage;
  let spec: CompletionSpec | undefined;
  if (ref?.type === 'ref/prompt' && typeof ref.name === 'string') {
    const entry = deps.registry.lookupPrompt(ref.name);
    if (!entry) throw invalidParams(`Unknown prompt: ${boundedMessage(ref.name, 128)}`);
    pkg = entry.pkg;
    spec = entry.prompt.spec.arguments.find((a) => a.name === argument.name)?.complete;
  } else if (ref?.type === 'ref/resource' && typeof ref.uri === 'string') {
    const hit = deps.registry.lookupTemplate(ref.uri);
    if (!hit) {
      // A fixed resource has nothing to complete; anything else is unknown.
      const fixed = deps.registry.resolveUri(ref.uri);
      if (fixed && 'resource' in fixed) return structuredClone(EMPTY);
      throw invalidParams(`Unknown resource template: ${boundedMessage(ref.uri, 256)}`);
    }
    pkg = hit.pkg;
    spec = Object.hasOwn(hit.template.spec.complete ?? {}, argument.name) ? hit.template.spec.complete?.[argument.name] : undefined;
  } else {
    throw invalidParams('ref must be a ref/prompt with a name or a ref/resource with a uri');
  }
  if (spec === undefined) return structuredClone(EMPTY);
  if (Array.isArray(spec)) return staticCompletion(spec as readonly string[], argument.value);
  const handler = (spec as { handler: string }).handler;
  const input = { argument: { name: argument.name, value: argument.value.slice(0, MAX_TYPED_CHARS) }, context: { arguments: contextArguments(params) } };
  try {
    return await runInSandbox(deps, { pkg, kind: 'completion', handler, input, accept: handlerCompletion }, call);
  } catch (e) {
    throw featureError(e, deps, 'completion/complete');
  }
}
