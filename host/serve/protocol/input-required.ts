/**
 * Input-required results (MCP 2026-07-28 multi round-trip requests) for tools: a tool returns
 * `ctx.inputRequired({ inputRequests, requestState })`; the host checks what it asks, wraps its state in a
 * signed `requestState`, and returns the SDK's InputRequiredResult. On 2026-07-28 the client answers and
 * calls again with `inputResponses` and the `requestState`; on 2025-11-25 the SDK's legacy shim sends the
 * real server→client requests (elicitation/create, sampling/createMessage, roots/list) and calls the
 * handler again the same way. Either way the next call is an ordinary sandbox call.
 *
 * Threat: what a tool asks is untrusted (checked here: kinds, keys, sizes); `requestState` and
 * `inputResponses` come back from the client and are untrusted too. The state is HMAC-SHA256 under a key
 * made per process and bound to the package, its version, the tool and the digest of the arguments, so a
 * state minted for one call cannot be replayed on another tool, package, version or other arguments, nor
 * edited (the tool's own string is signed, not encrypted: the client can read it). It also carries the
 * keys the tool asked for (answers under other keys are refused), the round number (bounded) and an
 * expiry. A state that fails any check is refused with the SDK's frozen -32602.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ProtocolError, ProtocolErrorCode, isSpecType } from '@modelcontextprotocol/server';
import type { InputRequests } from '@modelcontextprotocol/server';
import { HostError } from '../../errors.ts';
import { MAX_ARGUMENT_DEPTH, nestsDeeperThan } from '../validation.ts';

/** At most this many requests in one input-required result. */
export const MAX_INPUT_REQUESTS = 8;
/** The tool's own requestState, at most (characters). */
export const MAX_TOOL_STATE = 4096;
/** One input-required result's requests, as JSON, at most (bytes). */
export const MAX_INPUT_REQUESTS_BYTES = 64 * 1024;
/** Rounds (calls of one tool that follow an input-required result) per original call; the SDK's default. */
export const MAX_ROUNDS = 8;
/** How long a minted requestState is accepted. */
export const STATE_TTL_MS = 10 * 60 * 1000;

const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const STATE_PREFIX = 'mw1.';

/** What a state is bound to: the call it was minted for. */
export interface StateBinding {
  readonly package: string;
  readonly version: string;
  readonly tool: string;
  /** The digest of the call's arguments (the audit digest). */
  readonly argsDigest: string;
}

/** What a verified state carries. */
export interface RoundState {
  /** The tool's own requestState, if it gave one. */
  readonly toolState?: string;
  /** The keys of the requests the tool asked for: the only keys an answer may have. */
  readonly keys: readonly string[];
  /** The number of the call this state is for (the first call that follows an input-required result is 1). */
  readonly round: number;
  /** A consent question of the host (host/serve/consent/call.ts), not the tool's: what it asked and carries. */
  readonly consent?: unknown;
}

/** A tool's input request, checked. */
export interface CheckedInputRequired {
  readonly inputRequests?: InputRequests;
  readonly toolState?: string;
}

function invalid(message: string): HostError {
  return new HostError('INPUT_REQUEST_INVALID', message);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkUrlElicitation(key: string, params: Record<string, unknown>): void {
  for (const k of Object.keys(params)) if (k !== 'mode' && k !== 'message' && k !== 'url' && k !== '_meta') throw invalid(`input request "${key}": unexpected field "${k.slice(0, 64)}" in a URL elicitation`);
  if (typeof params.message !== 'string') throw invalid(`input request "${key}": a URL elicitation needs a message`);
  let url: URL;
  try {
    url = new URL(String(params.url));
  } catch {
    throw invalid(`input request "${key}": the URL is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`input request "${key}": the URL must be http(s)`);
}

/**
 * Checks what a tool's `ctx.inputRequired` returned: `{ inputRequests?, requestState? }` with at least one
 * request (a state alone would only make the client call again), each an `elicitation/create` (form or URL),
 * `sampling/createMessage` or `roots/list` of the spec's shape, keys like tool names, sizes capped.
 * @throws HostError INPUT_REQUEST_INVALID
 */
export function checkInputRequired(value: unknown): CheckedInputRequired {
  if (!isPlainObject(value)) throw invalid('the input request is not an object');
  for (const k of Object.keys(value)) if (k !== 'inputRequests' && k !== 'requestState') throw invalid(`unexpected field "${k.slice(0, 64)}"`);
  const { inputRequests, requestState } = value;
  if (requestState !== undefined && (typeof requestState !== 'string' || requestState.length > MAX_TOOL_STATE)) throw invalid(`requestState must be a string of at most ${MAX_TOOL_STATE} characters`);
  if (!isPlainObject(inputRequests)) throw invalid('inputRequests must be an object of requests');
  const keys = Object.keys(inputRequests);
  if (keys.length === 0) throw invalid('inputRequests is empty');
  if (keys.length > MAX_INPUT_REQUESTS) throw invalid(`more than ${MAX_INPUT_REQUESTS} input requests`);
  if (nestsDeeperThan(inputRequests, 16)) throw invalid('the input requests nest deeper than 16 levels');
  if (Buffer.byteLength(JSON.stringify(inputRequests)) > MAX_INPUT_REQUESTS_BYTES) throw invalid(`the input requests are larger than ${MAX_INPUT_REQUESTS_BYTES} bytes`);
  for (const key of keys) {
    if (!KEY_RE.test(key)) throw invalid(`input request key "${key.slice(0, 64)}" is not [A-Za-z0-9][A-Za-z0-9_-]{0,63}`);
    const request = inputRequests[key];
    if (!isPlainObject(request)) throw invalid(`input request "${key}" is not an object`);
    for (const k of Object.keys(request)) if (k !== 'method' && k !== 'params') throw invalid(`input request "${key}": unexpected field "${k.slice(0, 64)}"`);
    const params = request.params;
    switch (request.method) {
      case 'elicitation/create':
        if (isPlainObject(params) && params.mode === 'url') checkUrlElicitation(key, params);
        else if (!isPlainObject(params) || !isSpecType.ElicitRequest(request)) throw invalid(`input request "${key}": not a form elicitation (message, requestedSchema of primitive properties)`);
        break;
      case 'sampling/createMessage':
        if (!isSpecType.CreateMessageRequest(request)) throw invalid(`input request "${key}": not a sampling request (messages, maxTokens)`);
        break;
      case 'roots/list':
        if (params !== undefined && !isPlainObject(params)) throw invalid(`input request "${key}": roots/list params must be an object`);
        break;
      default:
        throw invalid(`input request "${key}": unknown kind (elicitation/create, sampling/createMessage or roots/list)`);
    }
  }
  return { inputRequests: inputRequests as unknown as InputRequests, ...(requestState !== undefined ? { toolState: requestState } : {}) };
}

/** The SDK's answer to a state it refuses (its deny rule: -32602, a frozen message, a reason). */
export function invalidState(): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid or expired requestState', { reason: 'invalid_request_state' });
}

/**
 * The client's answers, checked against the state: an object of at most the keys the tool asked for, each
 * an object, no deeper than arguments may be. The SDK has already dropped entries that are not bare results.
 * @throws ProtocolError -32602
 */
export function checkInputResponses(responses: unknown, state: RoundState): Record<string, unknown> {
  if (responses === undefined) return {};
  if (!isPlainObject(responses)) throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'inputResponses must be an object');
  if (nestsDeeperThan(responses, MAX_ARGUMENT_DEPTH)) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `inputResponses nest deeper than ${MAX_ARGUMENT_DEPTH} levels`);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(responses)) {
    if (!state.keys.includes(key)) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `inputResponses has an answer to "${key.slice(0, 64)}", which was not asked`);
    if (!isPlainObject(responses[key])) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `inputResponses["${key}"] is not an object`);
    Object.defineProperty(out, key, { value: responses[key], enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export interface StateCodec {
  /** The signed requestState for the next call of the tool. */
  mint(binding: StateBinding, state: RoundState): string;
  /**
   * The state a client sent back, if it is one this process minted for this binding and it has not expired.
   * @throws ProtocolError -32602 (the SDK's deny rule) otherwise
   */
  verify(token: unknown, binding: StateBinding): RoundState;
}

interface StateBody {
  readonly c?: unknown;
  readonly s?: string;
  readonly k: readonly string[];
  readonly r: number;
  readonly exp: number;
}

/** A codec with a key of its own (one per process by default); `now` for tests of the expiry. */
export function createStateCodec(options: { key?: Buffer; now?: () => number } = {}): StateCodec {
  const key = options.key ?? randomBytes(32);
  const now = options.now ?? Date.now;
  const mac = (binding: StateBinding, body: string): Buffer =>
    createHmac('sha256', key)
      .update(JSON.stringify(['mcp-warden.requestState.v1', binding.package, binding.version, binding.tool, binding.argsDigest, body]))
      .digest();
  return {
    mint(binding, state) {
      const body: StateBody = { ...(state.toolState !== undefined ? { s: state.toolState } : {}), ...(state.consent !== undefined ? { c: state.consent } : {}), k: state.keys, r: state.round, exp: now() + STATE_TTL_MS };
      const encoded = Buffer.from(JSON.stringify(body)).toString('base64url');
      return `${STATE_PREFIX}${encoded}.${mac(binding, encoded).toString('base64url')}`;
    },
    verify(token, binding) {
      if (typeof token !== 'string' || token.length > 16 * 1024 || !token.startsWith(STATE_PREFIX)) throw invalidState();
      const dot = token.lastIndexOf('.');
      if (dot <= STATE_PREFIX.length) throw invalidState();
      const encoded = token.slice(STATE_PREFIX.length, dot);
      const given = Buffer.from(token.slice(dot + 1), 'base64url');
      const expected = mac(binding, encoded);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidState();
      let body: StateBody;
      try {
        body = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as StateBody;
      } catch {
        throw invalidState();
      }
      if (typeof body.exp !== 'number' || body.exp < now() || !Array.isArray(body.k) || !Number.isInteger(body.r)) throw invalidState();
      return { ...(typeof body.s === 'string' ? { toolState: body.s } : {}), ...(body.c !== undefined ? { consent: body.c } : {}), keys: body.k.filter((k): k is string => typeof k === 'string'), round: body.r };
    },
  };
}
