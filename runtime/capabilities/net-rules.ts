/**
 * Network rules: the rule syntax parsed once into typed descriptors (plain data), and back to text. The
 * checks over them are runtime/capabilities/net.ts; the host-side enforcement is runtime/io/fetch.ts.
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
import { parseRuleMethods, parseRulePath } from './net-path.ts';

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

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

export function defaultPort(scheme: NetScheme): number {
  return scheme === 'https' ? 443 : 80;
}

function invalid(text: string, why: string): SandboxError {
  return new SandboxError('RULE_INVALID', `invalid net rule ${JSON.stringify(text.slice(0, 200))}: ${why}`);
}

/** Parses an IP literal (no brackets) to its canonical string, folding IPv4-mapped IPv6 to IPv4. */
export function canonicalIp(text: string): string | null {
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
export function canonicalHost(raw: string): { kind: 'name' | 'ip'; value: string } | null {
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

export function dedupe(rules: readonly NetRule[]): NetRule[] {
  const seen = new Map<string, NetRule>();
  for (const r of rules) {
    const key = netRuleToString(r);
    if (!seen.has(key)) seen.set(key, r);
  }
  return [...seen.values()];
}
