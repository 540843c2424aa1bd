/**
 * Every request to an npm registry: npm-registry-fetch (npm's own client: scoped registries, the auth rules,
 * a token sent only to the host it is configured for) over a guarded agent, with a deadline and a bounded
 * read.
 *
 * Threat: the registry, and whatever host its packument names, is an attacker (docs/threat-model.md).
 * - Size: a body is counted as it streams and cut off at a cap per kind of document (a declared
 *   Content-Length over the cap is refused before reading): an endless body cannot exhaust memory.
 * - Time: a deadline for the whole exchange (connect, headers, body), and no retries.
 * - Addresses: every connection (the first request, a `dist.tarball` on another host, each redirect hop)
 *   goes through one agent whose connect step refuses private, loopback, link-local and other special
 *   addresses (runtime/capabilities/special-addresses.ts, the sandbox's own list), after DNS and for IP
 *   literals alike, so a public name cannot resolve or redirect into the user's network. The configured
 *   registry's own host is exempt: the user chose it (a company mirror on a private address).
 * - Protocol: the agent serves one protocol: https, or http for a loopback registry the user configured
 *   (host/registry/npmrc.ts); a redirect to the other protocol fails.
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent as HttpAgent } from 'node:http';
import type { ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import regFetch from 'npm-registry-fetch';
import { specialAddressReason } from '../../runtime/index.ts';
import { HostError } from '../errors.ts';
import type { NpmConfig } from './npmrc.ts';

/** Deadline of one request, body included. */
export const REQUEST_TIMEOUT_MS = 60_000;

const REFUSED = 'EWARDENADDRESS';

class AddressRefused extends Error {
  readonly code = REFUSED;
}

function strip(host: string): string {
  return host.replace(/^\[|\]$/g, '').toLowerCase();
}

/** Why connecting to `ip` for `host` is refused, or undefined. */
function refusal(host: string, ip: string, exempt: ReadonlySet<string>): string | undefined {
  if (exempt.has(strip(host))) return undefined;
  const why = specialAddressReason(ip);
  return why === null ? undefined : `${host} is a ${why} address (${ip})`;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function guardedLookup(exempt: ReadonlySet<string>) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const a of addresses) {
        const why = refusal(hostname, a.address, exempt);
        if (why) return callback(new AddressRefused(why), []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

type CreateConnection = (options: ClientRequestArgs, cb: (err: Error | null, socket?: Socket) => void) => Socket | undefined;

function guard<A extends HttpAgent>(agent: A, exempt: ReadonlySet<string>): A {
  const base = (agent.createConnection as unknown as CreateConnection).bind(agent);
  const lookup = guardedLookup(exempt);
  (agent as unknown as { createConnection: CreateConnection }).createConnection = (options, cb) => {
    const host = String(options.host ?? options.hostname ?? '');
    if (isIP(strip(host))) {
      const why = refusal(host, strip(host), exempt);
      if (why) {
        process.nextTick(() => cb(new AddressRefused(why)));
        return undefined;
      }
      return base(options, cb);
    }
    return base({ ...options, lookup } as ClientRequestArgs, cb);
  };
  return agent;
}

/** The agent for requests to `registry`: its protocol only, its host exempt from the address check. */
export function registryAgent(registry: URL, extraExempt: readonly string[] = []): HttpAgent {
  const exempt = new Set([strip(registry.hostname), ...extraExempt.map(strip)]);
  return registry.protocol === 'http:' ? guard(new HttpAgent({ keepAlive: false }), exempt) : guard(new HttpsAgent({ keepAlive: false }), exempt);
}

export interface FetchLimits {
  /** Largest body accepted. */
  readonly maxBytes: number;
  /** For messages: "the packument of x", "the tarball of x@1.0.0". */
  readonly what: string;
  /** Accept header (the packument asks for JSON). */
  readonly accept?: string;
  /** Deadline of the request, body included (default REQUEST_TIMEOUT_MS). */
  readonly timeoutMs?: number;
}

function tooLarge(what: string, cap: number): HostError {
  return new HostError('REGISTRY_RESPONSE_TOO_LARGE', `${what} is larger than ${cap} bytes: refused`);
}

function fetchError(e: unknown, what: string, timeoutMs: number, signal: AbortSignal): HostError {
  if (e instanceof HostError) return e;
  const code = (e as { code?: unknown }).code;
  const message = e instanceof Error ? e.message : 'error';
  if (code === REFUSED) {
    const m = /(\S+ is a [a-z -]+ address \([^)]*\))/.exec(message);
    return new HostError('REGISTRY_ADDRESS_REFUSED', `${what}: refused to connect: ${m ? m[1] : 'a private or special address'} (only the configured registry may be on one)`);
  }
  const status = (e as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number') {
    if (status === 404) return new HostError('PACKAGE_NOT_FOUND', `${what}: the registry answered 404 Not Found`);
    return new HostError('FETCH_FAILED', `${what}: the registry answered HTTP ${status}`);
  }
  if (signal.aborted) return new HostError('FETCH_FAILED', `${what}: no complete answer within its deadline (${timeoutMs} ms)`);
  if ((e as { name?: unknown }).name === 'AbortError' || /timeout|aborted/i.test(message)) {
    return new HostError('FETCH_FAILED', `${what}: the connection was cut or timed out`);
  }
  return new HostError('FETCH_FAILED', `${what}: ${String(message).replace(/\s+/g, ' ').slice(0, 200)}`);
}

/**
 * GETs `url` with the user's npm configuration (auth for the host it is configured for only) through
 * `agent`, and reads the body under `limits.maxBytes`.
 * @throws HostError FETCH_FAILED, PACKAGE_NOT_FOUND, REGISTRY_ADDRESS_REFUSED, REGISTRY_RESPONSE_TOO_LARGE
 */
export async function fetchBounded(url: string, config: NpmConfig, registry: URL, agent: HttpAgent, limits: FetchLimits): Promise<Buffer> {
  const timeoutMs = limits.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const signal = AbortSignal.timeout(timeoutMs);
  let res;
  try {
    res = await regFetch(url, {
      ...config,
      registry: registry.href,
      // Never npm's cache (a user's `cache` or `offline` setting): every answer comes fresh and is checked.
      cache: undefined,
      offline: false,
      preferOffline: false,
      agent,
      timeout: timeoutMs,
      signal,
      retry: { retries: 0 },
      preferOnline: true,
      headers: limits.accept ? { accept: limits.accept } : {},
    });
  } catch (e) {
    throw fetchError(e, limits.what, timeoutMs, signal);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > limits.maxBytes) {
    res.body.destroy?.();
    throw tooLarge(limits.what, limits.maxBytes);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body) {
      total += chunk.length;
      if (total > limits.maxBytes) {
        res.body.destroy?.();
        throw tooLarge(limits.what, limits.maxBytes);
      }
      chunks.push(chunk);
    }
  } catch (e) {
    throw fetchError(e, limits.what, timeoutMs, signal);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body. @throws HostError REGISTRY_RESPONSE_INVALID */
export function parseJsonBody(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new HostError('REGISTRY_RESPONSE_INVALID', `${what} is not valid JSON`);
  }
}
