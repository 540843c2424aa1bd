/**
 * prompts/get: a static prompt's messages with its {{argument}} placeholders filled by the host, or the
 * messages a prompt handler produces in the sandbox (kind 'prompt').
 *
 * Threat: arguments are the client's, templates and handler values the package's. Arguments are
 * checked against the declared ones (unknown or missing required ones refused, sizes capped). A static
 * template is filled in ONE pass by String.prototype.replace with a function: an argument value is
 * inserted verbatim as data, never re-scanned (a value containing "{{x}}" stays literal) and never
 * evaluated, and it stays inside the message it was inserted into: messages are a list of objects, so
 * no text can add or split one. A handler's messages are checked strictly (roles, content types, sizes)
 * and copied into fresh objects.
 */
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { GetPromptResult } from '@modelcontextprotocol/server';
import { boundedMessage } from '../../../runtime/index.ts';
import { HostError } from '../../errors.ts';
import { PLACEHOLDER } from '../../manifest-content.ts';
import type { PromptSpec } from '../../manifest-content.ts';
import type { CallContext } from './call-context.ts';
import { handlerContents } from './resources.ts';
import { featureError, runInSandbox } from './run.ts';
import type { FeatureDeps } from './run.ts';

type Message = GetPromptResult['messages'][number];

/** Largest argument value, characters. */
export const MAX_ARGUMENT_CHARS = 64 * 1024;
/** Largest prompt (all its messages' text and data together), bytes. */
export const MAX_PROMPT_BYTES = 1024 * 1024;
/** Most messages a prompt handler may return. */
export const MAX_PROMPT_MESSAGES = 32;
const MIME = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function invalidParams(message: string): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, message);
}

/**
 * The arguments of a prompts/get, checked against the declared ones.
 * @throws ProtocolError InvalidParams naming the argument
 */
export function checkPromptArguments(spec: PromptSpec, args: unknown): Record<string, string> {
  if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) throw invalidParams('arguments must be an object of strings');
  const given = (args ?? {}) as Record<string, unknown>;
  const declared = new Map(spec.arguments.map((a) => [a.name, a]));
  const out = Object.create(null) as Record<string, string>;
  for (const key of Object.keys(given)) {
    if (!declared.has(key)) throw invalidParams(`unknown argument "${boundedMessage(key, 64)}" for prompt ${spec.name}`);
    const value = given[key];
    if (typeof value !== 'string') throw invalidParams(`argument "${key}" must be a string`);
    if (value.length > MAX_ARGUMENT_CHARS) throw invalidParams(`argument "${key}" is longer than ${MAX_ARGUMENT_CHARS} characters`);
    out[key] = value;
  }
  for (const a of spec.arguments) if (a.required && out[a.name] === undefined) throw invalidParams(`missing required argument "${a.name}" for prompt ${spec.name}`);
  return out;
}

/**
 * A static prompt's messages: each placeholder replaced, in one pass, by its argument's value (an
 * optional argument not given is empty).
 * @throws HostError INVALID_ARGUMENTS when the filled prompt would pass MAX_PROMPT_BYTES
 */
export function fillStaticPrompt(spec: PromptSpec, args: Readonly<Record<string, string>>): GetPromptResult {
  let total = 0;
  const messages = (spec.messages ?? []).map((m): Message => {
    const text = m.text.replace(PLACEHOLDER, (_whole, name: string) => {
      const value = Object.hasOwn(args, name) ? (args[name] as string) : '';
      total += value.length;
      // Checked while filling: a template repeating a placeholder could multiply a long value.
      if (total > MAX_PROMPT_BYTES) throw new HostError('INVALID_ARGUMENTS', `the filled prompt would be larger than ${MAX_PROMPT_BYTES} bytes`);
      return value;
    });
    return { role: m.role, content: { type: 'text', text } };
  });
  return { ...(spec.description !== undefined ? { description: spec.description } : {}), messages };
}

function bad(why: string): HostError {
  return new HostError('RESULT_INVALID', `the prompt handler returned ${why}`);
}

function onlyKeys(o: Record<string, unknown>, keys: readonly string[], what: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw bad(`${what} with the unexpected key "${boundedMessage(k, 40)}"`);
}

type Annotations = { audience?: ('user' | 'assistant')[]; priority?: number; lastModified?: string };

/** MCP content annotations, checked and copied: audience, priority (0–1), lastModified (ISO 8601). */
function annotationsOf(a: unknown, at: string): { annotations?: Annotations } {
  if (a === undefined) return {};
  if (a === null || typeof a !== 'object' || Array.isArray(a)) throw bad(`${at}: annotations that are not an object`);
  const o = a as Record<string, unknown>;
  onlyKeys(o, ['audience', 'priority', 'lastModified'], `${at}.annotations`);
  const out: Annotations = {};
  if (o.audience !== undefined) {
    if (!Array.isArray(o.audience) || o.audience.length > 2 || !o.audience.every((r) => r === 'user' || r === 'assistant')) throw bad(`${at}: an annotation audience other than user and assistant`);
    out.audience = [...(o.audience as ('user' | 'assistant')[])];
  }
  if (o.priority !== undefined) {
    if (typeof o.priority !== 'number' || !(o.priority >= 0 && o.priority <= 1)) throw bad(`${at}: an annotation priority outside 0–1`);
    out.priority = o.priority;
  }
  if (o.lastModified !== undefined) {
    if (typeof o.lastModified !== 'string' || o.lastModified.length > 64 || Number.isNaN(Date.parse(o.lastModified))) throw bad(`${at}: an annotation lastModified that is not a date`);
    out.lastModified = o.lastModified;
  }
  return { annotations: out };
}

function contentOf(c: unknown, at: string): Message['content'] {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw bad(`${at}: no content object`);
  const o = c as Record<string, unknown>;
  const annotations = annotationsOf(o.annotations, at);
  switch (o.type) {
    case 'text':
      onlyKeys(o, ['type', 'text', 'annotations'], at);
      if (typeof o.text !== 'string') throw bad(`${at}: a text content without text`);
      return { type: 'text', text: o.text, ...annotations };
    case 'image':
    case 'audio':
      onlyKeys(o, ['type', 'data', 'mimeType', 'annotations'], at);
      if (typeof o.data !== 'string' || !BASE64.test(o.data)) throw bad(`${at}: ${o.type} data that is not base64`);
      if (typeof o.mimeType !== 'string' || !MIME.test(o.mimeType) || !o.mimeType.startsWith(`${o.type}/`)) throw bad(`${at}: an invalid ${o.type} mimeType`);
      return { type: o.type, data: o.data, mimeType: o.mimeType, ...annotations };
    case 'resource': {
      onlyKeys(o, ['type', 'resource', 'annotations'], at);
      const r = o.resource as Record<string, unknown> | null;
      if (r === null || typeof r !== 'object' || Array.isArray(r)) throw bad(`${at}: a resource content without a resource`);
      onlyKeys(r, ['uri', 'mimeType', 'text', 'blob'], `${at}.resource`);
      if (typeof r.uri !== 'string' || r.uri.length === 0 || r.uri.length > 8192) throw bad(`${at}: a resource without a uri`);
      const { uri: _uri, ...rest } = r;
      const [item] = handlerContents(r.uri, rest, undefined);
      return { type: 'resource', resource: item as Extract<Message['content'], { type: 'resource' }>['resource'], ...annotations };
    }
    default:
      throw bad(`${at}: a content type other than text, image, audio and resource`);
  }
}

/**
 * A prompt handler's value as a prompts/get result.
 * @throws HostError RESULT_INVALID
 */
export function handlerPrompt(value: unknown): GetPromptResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad('no object');
  const v = value as Record<string, unknown>;
  onlyKeys(v, ['description', 'messages'], 'a result');
  if (v.description !== undefined && (typeof v.description !== 'string' || v.description.length > 8192)) throw bad('an invalid description');
  if (!Array.isArray(v.messages)) throw bad('no messages array');
  if (v.messages.length > MAX_PROMPT_MESSAGES) throw bad(`more than ${MAX_PROMPT_MESSAGES} messages`);
  let total = 0;
  const messages = (v.messages as unknown[]).map((m, i): Message => {
    const at = `messages[${i}]`;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw bad(`${at}: no object`);
    const o = m as Record<string, unknown>;
    onlyKeys(o, ['role', 'content'], at);
    if (o.role !== 'user' && o.role !== 'assistant') throw bad(`${at}: a role other than user and assistant`);
    const content = contentOf(o.content, at);
    total += JSON.stringify(content).length;
    if (total > MAX_PROMPT_BYTES) throw bad(`messages larger than ${MAX_PROMPT_BYTES} bytes`);
    return { role: o.role, content };
  });
  return { ...(typeof v.description === 'string' ? { description: v.description } : {}), messages };
}

/** prompts/get. @throws ProtocolError */
export async function getPrompt(deps: FeatureDeps, name: string, args: Record<string, string> | undefined, call: CallContext): Promise<GetPromptResult> {
  const entry = typeof name === 'string' ? deps.registry.lookupPrompt(name) : undefined;
  if (!entry) throw invalidParams(`Unknown prompt: ${boundedMessage(String(name), 128)}`);
  const { pkg, prompt } = entry;
  const checked = checkPromptArguments(prompt.spec, args);
  try {
    if (prompt.spec.handler === undefined) return fillStaticPrompt(prompt.spec, checked);
    return await runInSandbox(deps, { pkg, kind: 'prompt', handler: prompt.spec.handler, input: { ...checked }, accept: handlerPrompt }, call);
  } catch (e) {
    throw featureError(e, deps, 'prompts/get');
  }
}
