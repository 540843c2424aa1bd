import { describe, expect, it } from 'vitest';
import {
  checkNetAddress,
  checkNetTarget,
  intersectNetGrants,
  netGrantToStrings,
  parseNetGrant,
  parseTarget,
} from '../../../runtime/capabilities/net.ts';
import { specialAddressReason } from '../../../runtime/capabilities/special-addresses.ts';
import type { NetGrant, NetTarget } from '../../../runtime/capabilities/net.ts';

function target(url: string): NetTarget {
  const t = parseTarget(url);
  if ('code' in t) throw new Error(`unexpected denial ${t.code}`);
  return t;
}

function codeOfTarget(grant: NetGrant, url: string): string {
  const t = parseTarget(url);
  if ('code' in t) return t.code;
  const d = checkNetTarget(grant, t);
  return d.allowed ? 'OK' : d.code;
}

function codeOfAddress(grant: NetGrant, url: string, ip: string): string {
  const d = checkNetAddress(grant, target(url), ip);
  return d.allowed ? 'OK' : d.code;
}

describe('parseTarget', () => {
  describe('when the host is a numeric alias of loopback', () => {
    it.each([
      ['http://2130706433/'],
      ['http://0x7f.1/'],
      ['http://0x7f000001/'],
      ['http://0177.0.0.1/'],
      ['http://0177.1/'],
      ['http://127.1/'],
      ['http://127.0.0.1./'],
      ['http://[::ffff:127.0.0.1]/'],
      ['http://[::ffff:7f00:1]/'],
    ])('canonicalizes %s to 127.0.0.1', (url) => {
      expect(target(url)).toMatchObject({ host: '127.0.0.1', hostKind: 'ip', scheme: 'http', port: 80 });
    });
  });

  describe('when the URL carries credentials', () => {
    it.each([['https://user@api.example.com/'], ['https://user:pass@api.example.com/'], ['https://evil.com@api.example.com/'], ['https://:pw@api.example.com/']])(
      'refuses %s with NET_CREDENTIALS_IN_URL',
      (url) => {
        expect(parseTarget(url)).toMatchObject({ allowed: false, code: 'NET_CREDENTIALS_IN_URL' });
      },
    );
  });

  describe('when the scheme is not http or https', () => {
    it.each([['file:///etc/passwd'], ['ftp://example.com/'], ['data:text/plain,hi'], ['javascript:alert(1)'], ['ws://example.com/']])('refuses %s with NET_BAD_URL', (url) => {
      expect(parseTarget(url)).toMatchObject({ allowed: false, code: 'NET_BAD_URL' });
    });
  });

  describe('when the URL is not a URL', () => {
    it.each([['/relative'], ['not a url'], ['http://'], ['https://*.example.com/'], ['http://exa mple.com/'], [`https://example.com/${'a'.repeat(9000)}`]])('refuses %j with NET_BAD_URL', (url) => {
      expect(parseTarget(url)).toMatchObject({ allowed: false, code: 'NET_BAD_URL' });
    });
  });

  it('lowercases the host, drops the trailing dot and the fragment, and keeps path and query', () => {
    expect(target('HTTPS://API.Example.COM./v1?q=1#frag')).toEqual({
      scheme: 'https',
      host: 'api.example.com',
      hostKind: 'name',
      port: 443,
      href: 'https://api.example.com./v1?q=1',
      path: '/v1',
    });
  });

  it('converts an IDN host to punycode', () => {
    expect(target('https://bücher.example/').host).toBe('xn--bcher-kva.example');
  });
});

describe('checkNetTarget', () => {
  const grant = parseNetGrant(['api.example.com', '*.wild.example', 'alt.example.com:8443', 'http://localhost:8080', '203.0.113.7', '[2001:db8::1]', '198.51.100.0/24']);

  it.each([
    ['https://api.example.com/v1', 'OK'],
    ['https://API.EXAMPLE.COM./v1', 'OK'],
    ['https://api.example.com:443/', 'OK'],
    ['https://a.wild.example/', 'OK'],
    ['https://deep.a.wild.example/', 'OK'],
    ['https://wild.example/', 'NET_NOT_GRANTED'],
    ['https://notwild.example/', 'NET_NOT_GRANTED'],
    ['https://api.example.com.evil.com/', 'NET_NOT_GRANTED'],
    ['https://example.com/', 'NET_NOT_GRANTED'],
    ['http://api.example.com/', 'NET_SCHEME_NOT_ALLOWED'],
    ['https://api.example.com:8443/', 'NET_PORT_NOT_GRANTED'],
    ['https://alt.example.com:8443/', 'OK'],
    ['https://alt.example.com/', 'NET_PORT_NOT_GRANTED'],
    ['http://localhost:8080/', 'OK'],
    ['https://localhost:8080/', 'NET_SCHEME_NOT_ALLOWED'],
    ['http://localhost/', 'NET_PORT_NOT_GRANTED'],
    ['http://127.0.0.1:8080/', 'NET_NOT_GRANTED'],
    ['http://2130706433:8080/', 'NET_NOT_GRANTED'],
    ['https://203.0.113.7/', 'OK'],
    ['https://[::ffff:203.0.113.7]/', 'OK'],
    ['https://203.0.113.8/', 'NET_NOT_GRANTED'],
    ['https://[2001:db8::1]/', 'OK'],
    ['https://[2001:db8::2]/', 'NET_NOT_GRANTED'],
    ['https://198.51.100.42/', 'OK'],
    ['https://198.51.101.1/', 'NET_NOT_GRANTED'],
    ['https://user@api.example.com/', 'NET_CREDENTIALS_IN_URL'],
    ['https://evil.com@api.example.com/', 'NET_CREDENTIALS_IN_URL'],
  ])('%s → %s', (url, code) => {
    expect(codeOfTarget(grant, url)).toBe(code);
  });

  describe('when the grant is empty', () => {
    it('denies everything', () => {
      expect(codeOfTarget(parseNetGrant([]), 'https://api.example.com/')).toBe('NET_NOT_GRANTED');
    });
  });
});

describe('checkNetAddress', () => {
  describe('when a granted hostname resolves to a non-public address', () => {
    const grant = parseNetGrant(['api.example.com', 'http://api.test:8080']);
    it.each([
      ['127.0.0.1', 'loopback'],
      ['127.255.0.1', 'loopback'],
      ['::1', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::127.0.0.1', 'loopback'],
      ['::7f00:1', 'IPv4-compatible form of loopback'],
      ['::ffff:0:7f00:1', 'IPv4-translated form of loopback'],
      ['64:ff9b::7f00:1', 'NAT64 form of loopback'],
      ['64:ff9b::a00:1', 'NAT64 form of private'],
      ['2002:7f00:1::', '6to4 form of loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['192.168.1.1', 'private'],
      ['100.64.0.1', 'carrier-grade NAT'],
      ['169.254.169.254', 'link-local'],
      ['169.254.1.1', 'link-local'],
      ['fe80::1', 'link-local'],
      ['fd00::1', 'unique-local'],
      ['fd00:ec2::254', 'unique-local'],
      ['224.0.0.1', 'multicast'],
      ['ff02::1', 'multicast'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['255.255.255.255', 'broadcast'],
    ])('refuses %s (%s) with NET_PRIVATE_ADDRESS', (ip, reason) => {
      const d = checkNetAddress(grant, target('https://api.example.com/'), ip);
      expect(d).toMatchObject({ allowed: false, code: 'NET_PRIVATE_ADDRESS' });
      expect(d.allowed ? '' : d.detail).toContain(reason);
    });

    it.each([['93.184.216.34'], ['2606:2800:220:1:248:1893:25c8:1946'], ['::ffff:93.184.216.34'], ['64:ff9b::5db8:d822']])('allows the public address %s', (ip) => {
      expect(codeOfAddress(grant, 'https://api.example.com/', ip)).toBe('OK');
    });
  });

  describe('when a rule grants the exact private address or a range containing it', () => {
    const grant = parseNetGrant(['http://api.test:8080', 'http://127.0.0.1:8080', 'http://10.0.0.0/8:8080', 'intranet.example', '[fd00::5]']);
    it.each([
      ['http://api.test:8080/', '127.0.0.1', 'OK'],
      ['http://api.test:8080/', '::ffff:127.0.0.1', 'OK'],
      ['http://api.test:8080/', '127.0.0.2', 'NET_PRIVATE_ADDRESS'],
      ['http://api.test:8080/', '10.9.8.7', 'OK'],
      ['http://10.9.8.7:8080/', '10.9.8.7', 'OK'],
      ['http://api.test:8080/', '192.168.0.1', 'NET_PRIVATE_ADDRESS'],
      // The address rule must be for the same scheme and port as the target.
      ['https://intranet.example/', '10.0.0.1', 'NET_PRIVATE_ADDRESS'],
      ['https://intranet.example/', 'fd00::5', 'OK'],
      ['https://intranet.example/', 'fd00::6', 'NET_PRIVATE_ADDRESS'],
    ])('%s at %s → %s', (url, ip, code) => {
      expect(codeOfAddress(grant, url, ip)).toBe(code);
    });
  });

  describe('when the rule names localhost', () => {
    const grant = parseNetGrant(['http://localhost:8080']);
    it.each([
      ['127.0.0.1', 'OK'],
      ['::1', 'OK'],
      ['10.0.0.1', 'NET_PRIVATE_ADDRESS'],
      ['0.0.0.0', 'NET_PRIVATE_ADDRESS'],
    ])('localhost at %s → %s', (ip, code) => {
      expect(codeOfAddress(grant, 'http://localhost:8080/', ip)).toBe(code);
    });
  });

  describe('when the address is the cloud metadata service', () => {
    it('is refused under a CIDR that contains it', () => {
      const grant = parseNetGrant(['http://meta.test', 'http://169.254.0.0/16']);
      expect(codeOfAddress(grant, 'http://meta.test/', '169.254.169.254')).toBe('NET_PRIVATE_ADDRESS');
      expect(codeOfAddress(grant, 'http://meta.test/', '169.254.1.1')).toBe('OK');
    });

    it('is allowed only by an exact IP rule', () => {
      const grant = parseNetGrant(['http://169.254.169.254']);
      expect(codeOfAddress(grant, 'http://169.254.169.254/', '169.254.169.254')).toBe('OK');
    });
  });

  describe('when the target itself is not granted', () => {
    it('is refused before the address is considered', () => {
      expect(codeOfAddress(parseNetGrant(['api.example.com']), 'https://other.example.com/', '93.184.216.34')).toBe('NET_NOT_GRANTED');
    });
  });

  describe('when the resolver returns something that is not an IP', () => {
    it.each([['not-an-ip'], [''], ['fe80::1%eth0']])('fails closed on %j', (ip) => {
      expect(codeOfAddress(parseNetGrant(['api.example.com']), 'https://api.example.com/', ip)).toBe('NET_PRIVATE_ADDRESS');
    });
  });
});

describe('specialAddressReason', () => {
  it.each([
    ['8.8.8.8', null],
    ['203.0.113.7', null],
    ['127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'IPv4-mapped form of private'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo tunnel'],
  ])('%s → %s', (ip, reason) => {
    expect(specialAddressReason(ip)).toBe(reason);
  });
});

describe('intersectNetGrants', () => {
  const strings = (req: string[], allowed: string[]): string[] => netGrantToStrings(intersectNetGrants(parseNetGrant(req), parseNetGrant(allowed)));

  it.each([
    [['api.example.com'], ['*.example.com'], ['api.example.com']],
    [['*.example.com'], ['api.example.com'], ['api.example.com']],
    [['*.example.com'], ['*.example.com'], ['*.example.com']],
    [['*.a.example.com'], ['*.example.com'], ['*.a.example.com']],
    [['*.example.com'], ['*.a.example.com'], ['*.a.example.com']],
    [['example.com'], ['*.example.com'], []],
    [['api.example.com'], ['api.example.com:8443'], []],
    [['http://api.example.com'], ['api.example.com'], []],
    [['api.example.com'], [], []],
    [[], ['api.example.com'], []],
    [['10.0.0.0/8'], ['10.1.0.0/16'], ['10.1.0.0/16']],
    [['10.1.0.0/16'], ['10.0.0.0/8'], ['10.1.0.0/16']],
    [['10.0.0.0/8'], ['10.1.2.3'], ['10.1.2.3']],
    [['10.1.2.3'], ['10.0.0.0/8'], ['10.1.2.3']],
    [['10.1.2.3'], ['192.168.0.0/16'], []],
    [['api.example.com'], ['203.0.113.7'], []],
    [['203.0.113.7'], ['*.example.com'], []],
    [['api.example.com', 'b.example.com', 'evil.com'], ['*.example.com'], ['api.example.com', 'b.example.com']],
  ])('%j ∩ %j → %j', (req, allowed, expected) => {
    expect(strings(req, allowed)).toEqual(expected);
  });

  describe('for any pair of grants', () => {
    const pool = ['api.example.com', '*.example.com', '*.a.example.com', 'x.a.example.com', 'example.com', 'http://localhost:8080', 'localhost', '10.0.0.0/8', '10.1.0.0/16', '10.1.2.3', '127.0.0.1', 'api.example.com:8443'];
    const probes = [
      'https://api.example.com/',
      'https://x.a.example.com/',
      'https://y.a.example.com/',
      'https://example.com/',
      'http://localhost:8080/',
      'https://localhost/',
      'https://10.1.2.3/',
      'https://10.2.0.1/',
      'https://127.0.0.1/',
      'https://api.example.com:8443/',
    ];
    const cases = pool.flatMap((a) => pool.map((b) => [a, b] as const));
    it.each(cases)('%s ∩ %s never grants what either side refuses', (a, b) => {
      const ga = parseNetGrant([a]);
      const gb = parseNetGrant([b]);
      const both = intersectNetGrants(ga, gb);
      for (const url of probes) {
        const t = target(url);
        const inBoth = checkNetTarget(both, t).allowed;
        expect(inBoth).toBe(checkNetTarget(ga, t).allowed && checkNetTarget(gb, t).allowed);
      }
    });
  });
});
