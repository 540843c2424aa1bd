/**
 * Network capability checks: every check is a pure function (no I/O, no clock) over the rules parsed by
 * runtime/capabilities/net-rules.ts (re-exported here) and a canonicalized target. The host-side
 * enforcement that calls these checks is runtime/io/fetch.ts.
 */
import ipaddr from 'ipaddr.js';
import type { Decision, DenyCode } from '../types.ts';
import { intersectMethods, intersectPrefixes, normalizePath, pathWithin } from './net-path.ts';
import { canonicalHost, canonicalIp, dedupe, defaultPort } from './net-rules.ts';
import type { NetGrant, NetHost, NetRule, NetScheme } from './net-rules.ts';
import { METADATA, specialAddressReason } from './special-addresses.ts';

export { netGrantToStrings, netRuleToString, parseNetGrant, parseNetRule } from './net-rules.ts';
export type { NetGrant, NetHost, NetRule, NetScheme } from './net-rules.ts';

/** A URL the tool asked for, canonicalized. Never carries a wildcard. */
export interface NetTarget {
  readonly scheme: NetScheme;
  /** A DNS name (lowercase ASCII, no trailing dot) or an IP (IPv4 dotted, IPv6 compressed without brackets). */
  readonly host: string;
  readonly hostKind: 'name' | 'ip';
  readonly port: number;
  /** The canonical URL (WHATWG serialization, fragment removed). */
  readonly href: string;
  /** The path as path rules compare it (runtime/capabilities/net-path.ts normalizePath). */
  readonly path: string;
  /** Set when no path rule may match the path (an encoded slash, a dot segment). */
  readonly pathProblem?: string;
}

/** A refusal, as returned by the checks. */
export type NetDenial = Extract<Decision, { allowed: false }>;

const ALLOW: Decision = Object.freeze({ allowed: true });
const MAX_URL_LENGTH = 8192;

function deny(code: DenyCode, detail: string): NetDenial {
  return { allowed: false, code, detail };
}

/** "scheme://host:port" of a target: what events and messages show (never path or query). */
export function targetOrigin(target: Pick<NetTarget, 'scheme' | 'host' | 'port'>): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.scheme}://${host}:${target.port}`;
}

/**
 * Parses and canonicalizes a URL a tool asked for (WHATWG URL: numeric aliases such as 2130706433,
 * 0x7f.1, 0177.0.0.1 and 127.1 become 127.0.0.1; [::ffff:127.0.0.1] folds to 127.0.0.1).
 * Returns a denial: NET_CREDENTIALS_IN_URL for user:password@, NET_BAD_URL for anything unparseable or
 * not http(s).
 */
export function parseTarget(url: string): NetTarget | NetDenial {
  if (typeof url !== 'string' || url.length > MAX_URL_LENGTH) return deny('NET_BAD_URL', 'not a URL or too long');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return deny('NET_BAD_URL', 'not an absolute URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return deny('NET_BAD_URL', `scheme ${u.protocol.slice(0, 20)} is not http or https`);
  const scheme: NetScheme = u.protocol === 'https:' ? 'https' : 'http';
  // Credentials in a URL are how "evil.com@api.example.com" confuses readers; refuse them outright.
  if (u.username !== '' || u.password !== '') return deny('NET_CREDENTIALS_IN_URL', 'credentials in the URL are not allowed');
  const host = canonicalHost(u.hostname);
  if (host === null) return deny('NET_BAD_URL', 'bad host');
  const port = u.port === '' ? defaultPort(scheme) : Number(u.port);
  u.hash = '';
  const { path, problem } = normalizePath(u.pathname);
  return { scheme, host: host.value, hostKind: host.kind, port, href: u.href, path, ...(problem === null ? {} : { pathProblem: problem }) };
}

/** Whether the rule's path and methods admit the request (its host, scheme and port checked apart). */
function pathAndMethodMatch(rule: NetRule, target: NetTarget, method: string | undefined): boolean {
  return pathMatch(rule, target) && (rule.methods === undefined || (method !== undefined && rule.methods.includes(method)));
}

/** A path rule never admits a path with a problem (an encoded slash, a dot segment): refused, not guessed. */
function pathMatch(rule: NetRule, target: NetTarget): boolean {
  return rule.path === undefined || (target.pathProblem === undefined && pathWithin(target.path, rule.path));
}

function hostMatches(host: NetHost, target: NetTarget): boolean {
  switch (host.kind) {
    case 'fqdn':
      return target.hostKind === 'name' && target.host === host.name;
    case 'wildcard':
      return target.hostKind === 'name' && target.host.endsWith(`.${host.suffix}`);
    case 'ip':
      return target.hostKind === 'ip' && target.host === host.addr;
    case 'cidr':
      return target.hostKind === 'ip' && inCidr(target.host, host);
  }
}

function inCidr(ip: string, cidr: { readonly addr: string; readonly prefix: number }): boolean {
  const a = ipaddr.parse(ip);
  const net = ipaddr.parse(cidr.addr);
  return a.kind() === net.kind() && a.match(net, cidr.prefix);
}

/**
 * Before DNS: does some rule grant this scheme, host, port, path and method? Codes say which part failed:
 * NET_NOT_GRANTED (no rule names the host), NET_SCHEME_NOT_ALLOWED, NET_PORT_NOT_GRANTED,
 * NET_PATH_NOT_GRANTED, NET_METHOD_NOT_GRANTED. `method` is the request's (upper-case for the standard
 * methods); without it, only rules that name no methods can match.
 */
export function checkNetTarget(grant: NetGrant, target: NetTarget, method?: string): Decision {
  const byHost = grant.rules.filter((r) => hostMatches(r.host, target));
  if (byHost.length === 0) return deny('NET_NOT_GRANTED', `no rule grants ${target.host}`);
  const byScheme = byHost.filter((r) => r.scheme === target.scheme);
  if (byScheme.length === 0) return deny('NET_SCHEME_NOT_ALLOWED', `${target.scheme} is not granted for ${target.host}`);
  const byPort = byScheme.filter((r) => r.port === target.port);
  if (byPort.length === 0) return deny('NET_PORT_NOT_GRANTED', `port ${target.port} is not granted for ${target.host}`);
  const byPath = byPort.filter((r) => pathMatch(r, target));
  if (byPath.length === 0) return deny('NET_PATH_NOT_GRANTED', target.pathProblem ?? `the path is not granted for ${target.host}`);
  if (!byPath.some((r) => pathAndMethodMatch(r, target, method))) return deny('NET_METHOD_NOT_GRANTED', `${method ?? 'this method'} is not granted for this path of ${target.host}`);
  return ALLOW;
}

/**
 * Whether the request must be sent with its checked (normalised) path: when only path rules admit it, the
 * server gets exactly the path that was compared ("//" collapsed), so it cannot read another one.
 */
export function sendsCheckedPath(grant: NetGrant, target: NetTarget, method?: string): boolean {
  return !grant.rules.some((r) => r.path === undefined && r.scheme === target.scheme && r.port === target.port && hostMatches(r.host, target) && pathAndMethodMatch(r, target, method));
}

/**
 * After DNS: may the connection go to `resolvedIp`? The target must be granted (checkNetTarget), and a
 * private, loopback, link-local, unique-local, CGNAT, multicast, reserved or metadata address — directly or
 * embedded in IPv6 — is refused (NET_PRIVATE_ADDRESS) unless a rule for the same scheme and port grants that
 * exact address or a CIDR containing it, or names the host "localhost" (loopback addresses only).
 * The metadata address 169.254.169.254 needs an exact IP rule; unspecified addresses are never reachable.
 */
export function checkNetAddress(grant: NetGrant, target: NetTarget, resolvedIp: string, method?: string): Decision {
  const byTarget = checkNetTarget(grant, target, method);
  if (!byTarget.allowed) return byTarget;
  if (typeof resolvedIp !== 'string' || !ipaddr.isValid(resolvedIp) || resolvedIp.includes('%')) {
    // Fail closed on anything the resolver returned that is not a plain IP address.
    return deny('NET_PRIVATE_ADDRESS', `${target.host} resolved to an unrecognized address`);
  }
  const ip = canonicalIp(resolvedIp) ?? resolvedIp;
  const reason = specialAddressReason(ip);
  if (reason === null) return ALLOW;
  const refused = deny('NET_PRIVATE_ADDRESS', `${target.host} resolves to a ${reason} address (${ip})`);
  if (reason === 'unspecified') return refused;
  // Only a rule that admits this very request (path and method too) can grant its private address.
  const rules = grant.rules.filter((r) => r.scheme === target.scheme && r.port === target.port && pathAndMethodMatch(r, target, method));
  for (const r of rules) {
    if (r.host.kind === 'ip' && r.host.addr === ip) return ALLOW;
    if (METADATA.has(ip)) continue;
    if (r.host.kind === 'cidr' && inCidr(ip, r.host)) return ALLOW;
    if (r.host.kind === 'fqdn' && r.host.name === 'localhost' && reason === 'loopback') return ALLOW;
  }
  return refused;
}

/** The part of host `a` that host `b` also covers, or null. CIDRs either nest or are disjoint. */
function intersectHosts(a: NetHost, b: NetHost): NetHost | null {
  const within = (name: string, suffix: string): boolean => name.endsWith(`.${suffix}`);
  if (a.kind === 'fqdn') {
    if (b.kind === 'fqdn') return a.name === b.name ? a : null;
    if (b.kind === 'wildcard') return within(a.name, b.suffix) ? a : null;
    return null;
  }
  if (a.kind === 'wildcard') {
    if (b.kind === 'fqdn') return within(b.name, a.suffix) ? b : null;
    if (b.kind === 'wildcard') {
      if (a.suffix === b.suffix || within(a.suffix, b.suffix)) return a;
      return within(b.suffix, a.suffix) ? b : null;
    }
    return null;
  }
  if (a.kind === 'ip') {
    if (b.kind === 'ip') return a.addr === b.addr ? a : null;
    if (b.kind === 'cidr') return inCidr(a.addr, b) ? a : null;
    return null;
  }
  if (b.kind === 'ip') return inCidr(b.addr, a) ? b : null;
  if (b.kind === 'cidr') {
    if (a.prefix >= b.prefix && inCidr(a.addr, b)) return a;
    if (b.prefix >= a.prefix && inCidr(b.addr, a)) return b;
  }
  return null;
}

/**
 * The effective grant: what `requested` asks, limited to what `allowed` permits. Never wider than either
 * side (Deno's escalation rule); an empty `allowed` yields an empty grant.
 */
export function intersectNetGrants(requested: NetGrant, allowed: NetGrant): NetGrant {
  const out: NetRule[] = [];
  for (const r of requested.rules) {
    for (const a of allowed.rules) {
      if (r.scheme !== a.scheme || r.port !== a.port) continue;
      const host = intersectHosts(r.host, a.host);
      // Paths and methods narrow like hosts: the deeper prefix, the common methods; nothing in common, no rule.
      const path = intersectPrefixes(r.path, a.path);
      const methods = intersectMethods(r.methods, a.methods);
      if (host === null || path === null || methods === null) continue;
      out.push({ scheme: r.scheme, port: r.port, host, ...(path === undefined ? {} : { path }), ...(methods === undefined ? {} : { methods }) });
    }
  }
  return { rules: dedupe(out) };
}
