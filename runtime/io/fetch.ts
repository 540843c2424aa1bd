/**
 * Host-side enforcement of a tool's fetch. Every hop (the first request and each redirect) is checked
 * twice: the URL against the grant before DNS, and every resolved address after DNS; the socket is then
 * pinned to the address that was checked, so a second DNS answer cannot swap in another (DNS rebinding).
 * Uses node:http/https rather than global fetch because only they let us own name resolution.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkNetAddress, checkNetTarget, parseTarget, sendsCheckedPath, targetOrigin } from '../capabilities/net.ts';
import type { NetDenial, NetGrant, NetTarget } from '../capabilities/net.ts';
import { SandboxError } from '../errors.ts';
import type { PackageBreaker } from './breaker.ts';
import { dlpOutgoing } from '../dlp/apply.ts';
import { DEFAULT_DLP_POLICY } from '../dlp/policy.ts';
import type { DlpPolicy } from '../dlp/policy.ts';
import type { CapabilityEvent, Limits } from '../types.ts';
import { redactSecretBytes, redactSecrets } from '../capabilities/secrets.ts';
import type { SecretGrant } from '../capabilities/secrets.ts';
import { applySecretHeaders, applySecretQuery, planSecrets, secretsForHop } from './secrets.ts';
import type { SecretUse } from './secrets.ts';

/** Resolves a hostname to all of its addresses. */
export type Resolver = (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;

export interface GuardedRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array | null;
}

export interface GuardedFetchOptions {
  readonly limits: Pick<Limits, 'fetchTimeoutMs' | 'maxRequestBytes' | 'maxResponseBytes'>;
  /** Redirects followed before giving up; default 5. */
  readonly maxRedirects?: number;
  readonly signal?: AbortSignal;
  /** Default: dns.promises.lookup(host, { all: true }). */
  readonly resolve?: Resolver;
  readonly onEvent?: (event: CapabilityEvent) => void;
  /** The package's circuit breakers (runtime/io/breaker.ts); without one, nothing is counted. */
  readonly breaker?: PackageBreaker;
  /** DLP: the package's policy for what leaves (runtime/dlp); default DEFAULT_DLP_POLICY. */
  readonly dlp?: DlpPolicy;
  /** The package's secrets (runtime/capabilities/secrets.ts): substituted for placeholders, redacted from responses. */
  readonly secrets?: SecretGrant;
}

export interface GuardedResponse {
  readonly status: number;
  readonly statusText: string;
  /** The final URL, after redirects. */
  readonly url: string;
  readonly redirected: boolean;
  /** Lowercased names, in the order the server sent them. */
  readonly headers: [string, string][];
  readonly body: Uint8Array;
}

const DEFAULT_MAX_REDIRECTS = 5;
const MAX_HEADERS = 100;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Headers that steer the connection or framing: the host computes them, the tool may not set them.
const FORBIDDEN_HEADERS = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'te', 'trailer', 'upgrade', 'expect', 'http2-settings']);
// Credentials that must not follow a redirect to another origin.
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);
// Headers that describe a body, dropped when a redirect turns the request into a GET.
const BODY_HEADERS = new Set(['content-type', 'content-encoding', 'content-language', 'content-location']);
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH']);
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

const defaultResolver: Resolver = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

function failed(message: string): SandboxError {
  return new SandboxError('CAPABILITY_FAILED', message);
}

function normalizeMethod(method: string): string {
  if (typeof method !== 'string' || !TOKEN.test(method)) throw failed('invalid HTTP method');
  const upper = method.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) throw failed(`HTTP method ${upper} is not allowed`);
  return NORMALIZED_METHODS.has(upper) ? upper : method;
}

function sanitizeHeaders(headers: readonly (readonly [string, string])[]): [string, string][] {
  if (headers.length > MAX_HEADERS) throw failed('too many request headers');
  const out: [string, string][] = [];
  for (const [name, value] of headers) {
    // A CR or LF in a header would let the tool write its own request line or headers (request smuggling).
    if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) throw failed('invalid request header');
    const lower = name.toLowerCase();
    if (FORBIDDEN_HEADERS.has(lower) || lower.startsWith('proxy-')) continue;
    out.push([lower, value]);
  }
  return out;
}

function toHeaderObject(headers: readonly [string, string][]): Record<string, string | string[]> {
  const obj: Record<string, string | string[]> = {};
  for (const [name, value] of headers) {
    const prev = obj[name];
    obj[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return obj;
}

function withAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

interface Hop {
  readonly target: NetTarget;
  readonly address: string;
  readonly family: 4 | 6;
  /** Send the normalised path that the path rules compared, not the URL's own spelling. */
  readonly checkedPath: boolean;
}

/**
 * Fetches on behalf of a tool, enforcing `grant` on every hop and the size and time limits.
 * @throws SandboxError CAPABILITY_DENIED (policy refusal; the message names the origin and the DenyCode),
 *   CAPABILITY_FAILED (network failure, size cap, timeout, too many redirects), CANCELLED (signal aborted).
 */
export async function guardedFetch(grant: NetGrant, request: GuardedRequest, options: GuardedFetchOptions): Promise<GuardedResponse> {
  const { limits } = options;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const resolve = options.resolve ?? defaultResolver;
  let method = normalizeMethod(request.method);
  // DLP (runtime/dlp): the URL and body are scanned once, before anything leaves the host; `redact`
  // rewrites them, `block` fails the fetch with DATA_BLOCKED (a redirect's URL is the server's, not the tool's).
  // The event's `allowed` is the grant's answer: a DLP block is no capability denial.
  const outgoing = dlpOutgoing(options.dlp ?? DEFAULT_DLP_POLICY, request, (dlp) => options.onEvent?.({ kind: 'net', op: method, target: unparsedOrigin(request.url), allowed: true, dlp }));
  let body = outgoing.body;
  let headers = sanitizeHeaders(request.headers);
  // Secrets (docs/secrets.md): placeholders are found and checked now; values are written into each hop
  // after its grant check, and only where and whither they are bound.
  const uses = planSecrets(options.secrets, outgoing.url, headers, body);
  // Refused before any connection: an oversized body never leaves the host.
  if (body !== null && body.byteLength > limits.maxRequestBytes) throw failed(`request body exceeds ${limits.maxRequestBytes} bytes`);
  if (body !== null && (method === 'GET' || method === 'HEAD')) throw failed(`a ${method} request cannot have a body`);

  const controller = new AbortController();
  const signal = controller.signal;
  // One deadline for the whole fetch: every hop, DNS and the response body.
  const timer = setTimeout(() => controller.abort(failed(`fetch timed out after ${limits.fetchTimeoutMs} ms`)), Math.min(Math.max(limits.fetchTimeoutMs, 0), 2 ** 31 - 1));
  const onCallerAbort = (): void => controller.abort(new SandboxError('CANCELLED', 'fetch aborted'));
  if (options.signal?.aborted) onCallerAbort();
  else options.signal?.addEventListener('abort', onCallerAbort, { once: true });

  const report = (target: string, allowed: boolean, code?: CapabilityEvent['code']): void => {
    options.onEvent?.(code === undefined ? { kind: 'net', op: method, target, allowed } : { kind: 'net', op: method, target, allowed, code });
  };
  const refuse = (origin: string, d: NetDenial): SandboxError => {
    report(origin, false, d.code);
    // The resolved address stays in the host's logs; the tool only learns that it was not public.
    const why = d.code === 'NET_PRIVATE_ADDRESS' ? 'the host resolves to a non-public address' : d.detail;
    return new SandboxError('CAPABILITY_DENIED', `fetch to ${origin} denied (${d.code}): ${why}`);
  };

  try {
    let url = outgoing.url;
    for (let redirects = 0; ; redirects++) {
      const hop = await authorize(grant, url, method, resolve, signal, refuse);
      // An open breaker refuses (CIRCUIT_OPEN) before anything is sent; each hop's outcome is counted.
      const done = options.breaker?.enter(targetOrigin(hop.target), method);
      report(targetOrigin(hop.target), true);
      const hopUses = options.secrets === undefined ? [] : secretsForHop(options.secrets, uses, hop.target, method, redirects > 0);
      const res = await counted(send(grant, hop, method, applySecretHeaders(headers, hopUses), body, signal, hopUses), done, signal);
      const location = res.headers.location;
      if (REDIRECTS.has(res.statusCode ?? 0) && typeof location === 'string') {
        res.destroy();
        if (redirects >= maxRedirects) throw failed(`more than ${maxRedirects} redirects`);
        let next: URL;
        try {
          next = new URL(location, hop.target.href);
        } catch {
          throw failed('redirect to an invalid URL');
        }
        const status = res.statusCode ?? 0;
        if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
          method = 'GET';
          body = null;
          headers = headers.filter(([n]) => !BODY_HEADERS.has(n));
        }
        const nextTarget = parseTarget(next.href);
        const sameOrigin = !('code' in nextTarget) && targetOrigin(nextTarget) === targetOrigin(hop.target);
        if (!sameOrigin) headers = headers.filter(([n]) => !CREDENTIAL_HEADERS.has(n));
        url = next.href;
        continue;
      }
      const bytes = await readCapped(res, limits.maxResponseBytes, signal);
      const out: [string, string][] = [];
      // A server that echoes a secret (body, headers, the final URL) echoes it to the host only: the tool gets a marker.
      const hide = (text: string): string => redactSecrets(options.secrets, text);
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) out.push([(res.rawHeaders[i] ?? '').toLowerCase(), hide(res.rawHeaders[i + 1] ?? '')]);
      return { status: res.statusCode ?? 0, statusText: hide(res.statusMessage ?? ''), url: hide(hop.target.href), redirected: redirects > 0, headers: out, body: redactSecretBytes(options.secrets, bytes) };
    }
  } catch (e) {
    if (signal.aborted && signal.reason instanceof SandboxError) throw signal.reason;
    if (e instanceof SandboxError) throw e;
    const code = (e as { code?: unknown }).code;
    throw failed(`fetch failed${typeof code === 'string' && /^[A-Z_]+$/.test(code) ? ` (${code})` : ''}`);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/** Reports a hop's outcome to its breaker: a 5xx, a connection error or a timeout is a failure; a cancel is neither. */
async function counted(sent: Promise<http.IncomingMessage>, done: ((outcome: 'success' | 'failure' | 'abandoned') => void) | undefined, signal: AbortSignal): Promise<http.IncomingMessage> {
  if (done === undefined) return sent;
  try {
    const res = await sent;
    done((res.statusCode ?? 0) >= 500 ? 'failure' : 'success');
    return res;
  } catch (e) {
    const cancelled = signal.aborted && signal.reason instanceof SandboxError && signal.reason.code === 'CANCELLED';
    done(cancelled ? 'abandoned' : 'failure');
    throw e;
  }
}

/** The pure checks of one hop: URL, then every address DNS returns. */
async function authorize(
  grant: NetGrant,
  url: string,
  method: string,
  resolve: Resolver,
  signal: AbortSignal,
  refuse: (origin: string, d: NetDenial) => SandboxError,
): Promise<Hop> {
  const target = parseTarget(url);
  if ('code' in target) throw refuse(unparsedOrigin(url), target);
  const origin = targetOrigin(target);
  // Host, scheme, port, and the path and method rules: at every hop, with the hop's own method.
  const byTarget = checkNetTarget(grant, target, method);
  if (!byTarget.allowed) throw refuse(origin, byTarget);

  let answers: { address: string; family: 4 | 6 }[];
  if (target.hostKind === 'ip') {
    answers = [{ address: target.host, family: target.host.includes(':') ? 6 : 4 }];
  } else {
    try {
      answers = await withAbort(resolve(target.host), signal);
    } catch (e) {
      if (signal.aborted) throw e;
      throw failed(`could not resolve ${target.host}`);
    }
    if (!Array.isArray(answers) || answers.length === 0) throw failed(`could not resolve ${target.host}`);
  }
  // Every answer is checked, not just the one we use: a resolver mixing public and private answers is hostile.
  for (const a of answers) {
    const d = checkNetAddress(grant, target, a.address, method);
    if (!d.allowed) throw refuse(origin, d);
  }
  const first = answers[0] as { address: string; family: 4 | 6 };
  return { target, address: first.address, family: first.family, checkedPath: sendsCheckedPath(grant, target, method) };
}

/** The origin of a URL that failed to parse as a target, for the event (never path or query). */
function unparsedOrigin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * Kept-alive connections, pooled per grant and keyed by the address that was checked. A pooled socket is
 * reused only by a later request of a package holding the same grant object, to the same scheme, host and
 * port, whose own fresh DNS answer was checked (on this request) and pinned to the very address the socket
 * is connected to. So reuse never carries one package's (or one revoked grant's) check over to another
 * request: a grant change makes a new grant object, and with it a new, empty pool.
 */
type PinnedOptions = http.RequestOptions & { wardenPin?: string };
class PinnedHttpAgent extends http.Agent {
  override getName(options?: PinnedOptions): string {
    return `${super.getName(options)}|${options?.wardenPin ?? ''}`;
  }
}
class PinnedHttpsAgent extends https.Agent {
  override getName(options?: PinnedOptions & https.RequestOptions): string {
    return `${super.getName(options)}|${options?.wardenPin ?? ''}`;
  }
}
/**
 * At most 16 connections per origin and checked address, all of which may stay open when idle (a burst of
 * concurrent fetches finds its connections again instead of opening new ones); an idle one is closed after
 * the 5 s socket timeout.
 */
export const AGENT_OPTIONS = { keepAlive: true, maxSockets: 16, maxFreeSockets: 16, timeout: 5_000 } as const;
const agents = new WeakMap<NetGrant, { http: PinnedHttpAgent; https: PinnedHttpsAgent }>();
function agentsFor(grant: NetGrant): { http: PinnedHttpAgent; https: PinnedHttpsAgent } {
  let a = agents.get(grant);
  if (a === undefined) {
    a = { http: new PinnedHttpAgent(AGENT_OPTIONS), https: new PinnedHttpsAgent(AGENT_OPTIONS) };
    agents.set(grant, a);
  }
  return a;
}

function send(grant: NetGrant, hop: Hop, method: string, headers: readonly [string, string][], body: Uint8Array | null, signal: AbortSignal, secrets: readonly SecretUse[]): Promise<http.IncomingMessage> {
  const { target, address, family } = hop;
  // The socket goes to the address that was checked, whatever a second DNS query would say now.
  const pinned: LookupFunction = (_hostname, opts, cb) => {
    if (opts.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  };
  const u = new URL(target.href);
  const headerObj = toHeaderObject(headers);
  if (body !== null || method === 'POST' || method === 'PUT' || method === 'PATCH') headerObj['content-length'] = String(body?.byteLength ?? 0);
  const pool = agentsFor(grant);
  const base: PinnedOptions = {
    host: target.host,
    port: target.port,
    path: applySecretQuery(`${hop.checkedPath ? target.path : u.pathname}${u.search}`, secrets),
    method,
    headers: headerObj,
    lookup: pinned,
    family,
    agent: target.scheme === 'https' ? pool.https : pool.http,
    wardenPin: `${family}/${address}`,
  };
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const req =
      target.scheme === 'https'
        ? https.request({ ...base, ...(target.hostKind === 'name' ? { servername: target.host } : {}) }, resolve)
        : http.request(base, resolve);
    // The fetch's deadline or cancel ends the request (readCapped ends its response). Not Node's `signal`
    // option: that one builds a premature-close error for every request that ends normally, to remove its
    // listener. The signal is the fetch's own, which nothing aborts once the fetch has returned.
    signal.addEventListener('abort', () => req.destroy(signal.reason instanceof Error ? signal.reason : undefined), { once: true });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

function readCapped(res: http.IncomingMessage, max: number, signal: AbortSignal): Promise<Uint8Array> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    res.destroy();
    return Promise.reject(failed(`response body exceeds ${max} bytes`));
  }
  // Read with listeners (an async iterator costs several promise turns per chunk and per end).
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const settle = (error: unknown): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (error !== undefined) {
        reject(error);
        return;
      }
      const out = Buffer.concat(chunks, total);
      resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    };
    const onAbort = (): void => {
      res.destroy(signal.reason instanceof Error ? signal.reason : undefined);
      settle(signal.reason ?? failed('fetch aborted'));
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    res.on('data', (chunk: Buffer) => {
      if (settled) return;
      total += chunk.byteLength;
      // Streamed and cut off: a server that lies about (or omits) Content-Length cannot exhaust memory.
      if (total > max) {
        settle(failed(`response body exceeds ${max} bytes`));
        res.destroy();
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => settle(undefined));
    res.on('error', (e) => settle(e));
    // Closed before its end (the connection dropped mid-body): a failure, never a truncated body.
    res.on('close', () => settle(res.complete ? undefined : failed('fetch failed (the response ended early)')));
  });
}
