/**
 * The addresses a network grant never reaches by default (after DNS, runtime/capabilities/net.ts
 * checkNetAddress): private, loopback, link-local, unique-local, CGNAT, multicast, reserved, and the cloud
 * metadata service, directly or embedded in an IPv6 form. Plain data and a pure function.
 */
import ipaddr from 'ipaddr.js';

/** Addresses that answer for the cloud instance metadata service: reachable only by an exact IP rule. */
export const METADATA: ReadonlySet<string> = new Set(['169.254.169.254', 'fd00:ec2::254']);

// IPv4 ranges refused after DNS unless a rule grants them. "0.0.0.0" connects to this host on Linux.
const V4_SPECIAL: readonly [string, string][] = [
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
];
const V4_PARSED = V4_SPECIAL.map(([c, why]) => [ipaddr.IPv4.parseCIDR(c), why] as const);

const V6_SPECIAL: readonly [string, string][] = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['fc00::/7', 'unique-local'],
  ['ff00::/8', 'multicast'],
  ['64:ff9b:1::/48', 'local-use NAT64'],
  ['2001::/32', 'Teredo tunnel'],
  ['100::/64', 'discard-only'],
];
const V6_PARSED = V6_SPECIAL.map(([c, why]) => [ipaddr.IPv6.parseCIDR(c), why] as const);

function v4FromParts(hi: number, lo: number): string {
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/**
 * Why an address must not be reached by default, or null for an ordinary public address. IPv6 forms that
 * embed an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by the embedded address, so
 * ::ffff:7f00:1 or 64:ff9b::7f00:1 cannot smuggle loopback past the check.
 */
export function specialAddressReason(ip: string): string | null {
  const a = ipaddr.parse(ip);
  if (a.kind() === 'ipv4') {
    const v4 = a as ipaddr.IPv4;
    for (const [range, why] of V4_PARSED) if (v4.match(range)) return why;
    return null;
  }
  const v6 = a as ipaddr.IPv6;
  const p = v6.parts;
  const embedded = (hi: number, lo: number, form: string): string | null => {
    const inner = specialAddressReason(v4FromParts(hi, lo));
    return inner === null ? null : `${form} form of ${inner}`;
  };
  for (const [range, why] of V6_PARSED) if (v6.match(range)) return why;
  const [p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0] = p;
  const upper64Zero = p0 === 0 && p1 === 0 && p2 === 0 && p3 === 0;
  if (upper64Zero && p4 === 0 && p5 === 0xffff) return embedded(p6, p7, 'IPv4-mapped');
  if (upper64Zero && p4 === 0xffff && p5 === 0) return embedded(p6, p7, 'IPv4-translated');
  if (upper64Zero && p4 === 0 && p5 === 0) return embedded(p6, p7, 'IPv4-compatible');
  if (p0 === 0x64 && p1 === 0xff9b && p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0) return embedded(p6, p7, 'NAT64');
  if (p0 === 0x2002) return embedded(p1, p2, '6to4');
  return null;
}
