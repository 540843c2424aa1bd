/**
 * Network capability: rules are parsed once into typed descriptors, and every check is a pure function
 * over them (no I/O, no clock). The host-side enforcement that calls these checks is runtime/io/fetch.ts.
 *
 * Rule syntax (see docs/capabilities.md):
 *   api.example.com            https, port 443
 *   *.example.com              any subdomain (not the apex), https:443
 *   api.example.com:8443       https on that port
 *   http://localhost:8080      plain http only when the rule says so
 *   203.0.113.7  [2001:db8::1] IP literals
 *   203.0.113.0/24  10.0.0.0/8 CIDR ranges (the only way to reach private addresses besides exact IPs)
 *   GET,HEAD api.example.com/repos/acme/   methods and a path prefix (runtime/capabilities/net-path.ts)
 */
import ipaddr from 'ipaddr.js';
import { domainToASCII } from 'node:url';
import { SandboxError } from '../errors.ts';
import type { Decision, DenyCode } from '../types.ts';
import { intersectMethods, intersectPrefixes, normalizePath, parseRuleMethods, parseRulePath, pathWithin } from './net-path.ts';
import { METADATA, specialAddressReason } from './special-addresses.ts';

export type NetScheme = 'http' | 'https';

/** A rule's host, normalized: lowercased ASCII, no trailing dot, IPv4-mapped IPv6 folded to IPv4. */
export type NetHost =
  | { readonly kind: 'fqdn'; readonly name: string }
  /** "*.example.com" is stored as suffix "example.com"; it matches subdomains only. Rules only. */
  | { readonly kind: 'wildcard'; readonly suffix: string }
  | { readonly kind: 'ip'; readonly addr: string }
  /** Network address and prefix length, e.g. 10.0.0.0 / 8. */
  | { readonly kind: 'cidr'; readonly addr: string; readonly prefix: number };

export interface NetRule {
  readonly scheme: NetScheme;
  readonly host: NetHost;
  readonly port: number;
  /** Path prefix, normalized, without its trailing slash ("/repos/acme"); absent: every path. */
  readonly path?: string;
  /** Upper-case, sorted methods ("GET", "HEAD"); absent: every method. */
  readonly methods?: readonly string[];
}

/** A set of network rules. Empty grants nothing (default deny). */
export interface NetGrant {
  readonly rules: readonly NetRule[];
}

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
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

function deny(code: DenyCode, detail: string): NetDenial {
  return { allowed: false, code, detail };
}

function defaultPort(scheme: NetScheme): number {
  return scheme === 'https' ? 443 : 80;
}

function invalid(text: string, why: string): SandboxError {
  return new SandboxError('RULE_INVALID', `invalid net rule ${JSON.stringify(text.slice(0, 200))}: ${why}`);
}

/** Parses an IP literal (no brackets) to its canonical string, folding IPv4-mapped IPv6 to IPv4. */
function canonicalIp(text: string): string | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text).toString();
  if (!ipaddr.IPv6.isValid(text) || text.includes('%')) return null;
  const v6 = ipaddr.IPv6.parse(text);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address().toString() : v6.toString();
}

function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  // A name whose last label is numeric would be read as an IPv4 alias by URL parsers: never a DNS name.
  if (/^(?:\d+|0x[0-9a-f]*)$/.test(labels[labels.length - 1] ?? '')) return false;
  return labels.every((l) => LABEL.test(l));
}

/**
 * Canonicalizes a host through the same WHATWG host parser the tool's URL goes through, so a rule and a
 * query can never disagree about what a host means (numeric aliases such as 0x7f.1, case, IDN).
 */
function canonicalHost(raw: string): { kind: 'name' | 'ip'; value: string } | null {
  let hostname: string;
  try {
    hostname = new URL(`http://${raw}/`).hostname;
  } catch {
    return null;
  }
  if (hostname.startsWith('[') && hostname.endsWith(']')) {
    const ip = canonicalIp(hostname.slice(1, -1));
    return ip === null ? null : { kind: 'ip', value: ip };
  }
  if (ipaddr.IPv4.isValidFourPartDecimal(hostname)) return { kind: 'ip', value: ipaddr.IPv4.parse(hostname).toString() };
  const name = domainToASCII(hostname.endsWith('.') ? hostname.slice(0, -1) : hostname);
  return isDnsName(name) ? { kind: 'name', value: name } : null;
}

function parsePort(text: string, rule: string): number {
  if (!/^\d{1,5}$/.test(text)) throw invalid(rule, 'bad port');
  const port = Number(text);
  if (port < 1 || port > 65535) throw invalid(rule, 'port out of range');
  return port;
}

function parseCidr(addrText: string, lenText: string, rule: string): NetHost {
  if (!/^\d{1,3}$/.test(lenText)) throw invalid(rule, 'bad prefix length');
  const ip = canonicalIp(addrText);
  if (ip === null) throw invalid(rule, 'bad network address');
  const prefix = Number(lenText);
  const max = ipaddr.parse(ip).kind() === 'ipv4' ? 32 : 128;
  // A mapped IPv6 range folded to IPv4 loses the 96-bit prefix.
  const folded = ipaddr.parse(addrText).kind() === 'ipv6' && max === 32 ? prefix - 96 : prefix;
  if (folded < 0 || folded > max) throw invalid(rule, 'prefix length out of range');
  const network = max === 32 ? ipaddr.IPv4.networkAddressFromCIDR(`${ip}/${folded}`) : ipaddr.IPv6.networkAddressFromCIDR(`${ip}/${folded}`);
  return { kind: 'cidr', addr: network.toString(), prefix: folded };
}

/**
 * Parses one rule string into a normalized descriptor.
 * @throws SandboxError RULE_INVALID on anything that is not exactly a rule (paths, credentials, bad ports...).
 */
export function parseNetRule(text: string): NetRule {
  if (typeof text !== 'string' || text.length === 0 || text.length > 1024) throw invalid(String(text), 'empty or too long');
  let rest = text.trim();
  // "GET,HEAD https://host/path": an optional method list, then one space-separated origin and path.
  let methods: readonly string[] | undefined;
  const withMethods = /^([A-Za-z,]+)[ \t]+(\S+)$/.exec(rest);
  if (withMethods) {
    const parsed = parseRuleMethods(withMethods[1] ?? '');
    if ('invalid' in parsed) throw invalid(text, parsed.invalid);
    methods = parsed.methods;
    rest = withMethods[2] ?? '';
  }
  const base = parseOriginRule(text, rest);
  return methods === undefined ? base : { ...base, methods };
}

/** "[scheme://]host[:port][/path]" of a rule (`text` is the whole rule, for messages). */
function parseOriginRule(text: string, rest: string): NetRule {
  let scheme: NetScheme = 'https';
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(rest);
  if (m) {
    const s = (m[1] ?? '').toLowerCase();
    if (s !== 'http' && s !== 'https') throw invalid(text, 'scheme must be http or https');
    scheme = s;
    rest = rest.slice(m[0].length);
  }
  const { authority, pathText } = splitPath(rest);
  const base = parseAuthority(text, authority, scheme);
  if (pathText === null) return base;
  // "10.0.0.0/8" is a range: a path after an IP or a range needs an explicit port ("10.0.0.5:443/api/").
  if ((base.host.kind === 'ip' || base.host.kind === 'cidr') && !/:\d+$/.test(authority)) throw invalid(text, 'a path after an IP address or range needs an explicit port');
  const parsed = parseRulePath(pathText);
  if ('invalid' in parsed) throw invalid(text, parsed.invalid);
  return parsed.prefix === null ? base : { ...base, path: parsed.prefix };
}

/**
 * Splits "host[/len][:port]/path" after its authority. The "/" of a CIDR ("10.0.0.0/8", "[2001:db8::]/32")
 * belongs to the authority: a path starts at the first "/" after the host and any prefix length and port.
 */
function splitPath(rest: string): { authority: string; pathText: string | null } {
  if (rest.startsWith('[')) {
    const m = /^(\[[^\]]*\](?:\/\d+)?(?::\d*)?)(\/.*)?$/.exec(rest);
    return m ? { authority: m[1] ?? '', pathText: m[2] ?? null } : { authority: rest, pathText: null };
  }
  const slash = rest.indexOf('/');
  if (slash < 0) return { authority: rest, pathText: null };
  const head = rest.slice(0, slash);
  // A bare IPv6 range ("2001:db8::/32") has no port and so no path.
  if ((head.match(/:/g) ?? []).length > 1) return { authority: rest, pathText: null };
  // "/" right after an IPv4 address starts its prefix length ("10.0.0.0/8:8080/api/").
  if (/^[0-9.]+$/.test(head)) {
    const m = /^([^/]*\/[^/:]*(?::[^/]*)?)(\/.*)?$/.exec(rest);
    return m ? { authority: m[1] ?? '', pathText: m[2] ?? null } : { authority: rest, pathText: null };
  }
  return { authority: head, pathText: rest.slice(slash) };
}

function parseAuthority(text: string, rest: string, scheme: NetScheme): NetRule {
  if (/[\s@?#\\]/.test(rest)) throw invalid(text, 'a rule is [METHODS ][scheme://]host[:port][/path], without credentials or query');

  let hostText: string;
  let cidrLen: string | null = null;
  let portText: string | null = null;
  let bracketed = false;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw invalid(text, 'unclosed [');
    hostText = rest.slice(1, close);
    bracketed = true;
    const tail = /^(?:\/(\d+))?(?::(\d+))?$/.exec(rest.slice(close + 1));
    if (!tail) throw invalid(text, 'unexpected text after ]');
    cidrLen = tail[1] ?? null;
    portText = tail[2] ?? null;
  } else if ((rest.match(/:/g) ?? []).length > 1) {
    // A bare IPv6 literal or range: no port possible without brackets.
    const slash = rest.indexOf('/');
    hostText = slash < 0 ? rest : rest.slice(0, slash);
    cidrLen = slash < 0 ? null : rest.slice(slash + 1);
  } else {
    const tail = /^([^/:]*)(?:\/([^/:]*))?(?::([^/:]*))?$/.exec(rest);
    if (!tail) throw invalid(text, 'a rule is [scheme://]host[:port], without a path');
    hostText = tail[1] ?? '';
    cidrLen = tail[2] ?? null;
    portText = tail[3] ?? null;
  }
  const port = portText === null ? defaultPort(scheme) : parsePort(portText, text);

  if (cidrLen !== null) return { scheme, port, host: parseCidr(hostText, cidrLen, text) };
  if (bracketed) {
    const ip = canonicalIp(hostText);
    if (ip === null) throw invalid(text, 'bad IPv6 literal');
    return { scheme, port, host: { kind: 'ip', addr: ip } };
  }
  if (hostText.includes(':')) {
    const ip = canonicalIp(hostText);
    if (ip === null) throw invalid(text, 'bad IPv6 literal');
    return { scheme, port, host: { kind: 'ip', addr: ip } };
  }
  if (hostText.startsWith('*.')) {
    const suffix = canonicalHost(hostText.slice(2));
    if (suffix === null || suffix.kind !== 'name') throw invalid(text, 'bad wildcard suffix');
    // "*.com" would grant a whole top-level domain.
    if (!suffix.value.includes('.')) throw invalid(text, 'a wildcard needs at least two labels after "*."');
    return { scheme, port, host: { kind: 'wildcard', suffix: suffix.value } };
  }
  if (hostText.includes('*')) throw invalid(text, 'a wildcard is only allowed as a leading "*."');
  const host = canonicalHost(hostText);
  if (host === null) throw invalid(text, 'bad host');
  return { scheme, port, host: host.kind === 'ip' ? { kind: 'ip', addr: host.value } : { kind: 'fqdn', name: host.value } };
}

/** Parses a list of rule strings. Duplicates collapse. @throws SandboxError RULE_INVALID */
export function parseNetGrant(texts: readonly string[]): NetGrant {
  return { rules: dedupe(texts.map(parseNetRule)) };
}

function hostToString(host: NetHost): string {
  switch (host.kind) {
    case 'fqdn':
      return host.name;
    case 'wildcard':
      return `*.${host.suffix}`;
    case 'ip':
      return host.addr.includes(':') ? `[${host.addr}]` : host.addr;
    case 'cidr':
      return `${host.addr.includes(':') ? `[${host.addr}]` : host.addr}/${host.prefix}`;
  }
}

function originToString(rule: NetRule): string {
  const host = hostToString(rule.host);
  // After an IP or a range, a path needs the port written out ("10.0.0.0/8" would read as a range).
  const portShown = rule.port !== defaultPort(rule.scheme) || (rule.path !== undefined && (rule.host.kind === 'ip' || rule.host.kind === 'cidr'));
  const origin = portShown ? `${host}:${rule.port}` : host;
  return rule.scheme === 'https' ? origin : `${rule.scheme}://${origin}`;
}

/** The canonical text of a rule ("GET,HEAD api.example.com/repos/acme/"); parseNetRule(netRuleToString(r)) equals r. */
export function netRuleToString(rule: NetRule): string {
  const methods = rule.methods === undefined ? '' : `${rule.methods.join(',')} `;
  const path = rule.path === undefined ? '' : `${rule.path}/`;
  return `${methods}${originToString(rule)}${path}`;
}

/** The canonical rule strings of a grant (for manifests, logs and prompts). */
export function netGrantToStrings(grant: NetGrant): string[] {
  return grant.rules.map(netRuleToString);
}

function dedupe(rules: readonly NetRule[]): NetRule[] {
  const seen = new Map<string, NetRule>();
  for (const r of rules) {
    const key = netRuleToString(r);
    if (!seen.has(key)) seen.set(key, r);
  }
  return [...seen.values()];
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
