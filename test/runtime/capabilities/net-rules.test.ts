import { describe, expect, it } from 'vitest';
import { netGrantToStrings, parseNetGrant, parseNetRule } from '../../../runtime/capabilities/net-rules.ts';
import { SandboxError } from '../../../runtime/errors.ts';

describe('parseNetRule', () => {
  describe('when the rule is well formed', () => {
    it.each([
      ['api.example.com', { scheme: 'https', port: 443, host: { kind: 'fqdn', name: 'api.example.com' } }],
      ['API.Example.COM.', { scheme: 'https', port: 443, host: { kind: 'fqdn', name: 'api.example.com' } }],
      ['*.example.com', { scheme: 'https', port: 443, host: { kind: 'wildcard', suffix: 'example.com' } }],
      ['api.example.com:8443', { scheme: 'https', port: 8443, host: { kind: 'fqdn', name: 'api.example.com' } }],
      ['http://localhost:8080', { scheme: 'http', port: 8080, host: { kind: 'fqdn', name: 'localhost' } }],
      ['http://example.com', { scheme: 'http', port: 80, host: { kind: 'fqdn', name: 'example.com' } }],
      ['HTTPS://example.com', { scheme: 'https', port: 443, host: { kind: 'fqdn', name: 'example.com' } }],
      ['203.0.113.7', { scheme: 'https', port: 443, host: { kind: 'ip', addr: '203.0.113.7' } }],
      ['[2001:DB8::1]', { scheme: 'https', port: 443, host: { kind: 'ip', addr: '2001:db8::1' } }],
      ['http://[2001:db8::1]:8080', { scheme: 'http', port: 8080, host: { kind: 'ip', addr: '2001:db8::1' } }],
      ['[::ffff:203.0.113.7]', { scheme: 'https', port: 443, host: { kind: 'ip', addr: '203.0.113.7' } }],
      ['203.0.113.0/24', { scheme: 'https', port: 443, host: { kind: 'cidr', addr: '203.0.113.0', prefix: 24 } }],
      ['10.1.2.3/8', { scheme: 'https', port: 443, host: { kind: 'cidr', addr: '10.0.0.0', prefix: 8 } }],
      ['http://10.0.0.0/8:8080', { scheme: 'http', port: 8080, host: { kind: 'cidr', addr: '10.0.0.0', prefix: 8 } }],
      ['2001:db8::/32', { scheme: 'https', port: 443, host: { kind: 'cidr', addr: '2001:db8::', prefix: 32 } }],
      ['127.1', { scheme: 'https', port: 443, host: { kind: 'ip', addr: '127.0.0.1' } }],
      ['bücher.example', { scheme: 'https', port: 443, host: { kind: 'fqdn', name: 'xn--bcher-kva.example' } }],
    ])('parses %s', (text, expected) => {
      expect(parseNetRule(text)).toEqual(expected);
    });
  });

  describe('when the rule is junk', () => {
    it.each([
      [''],
      ['ftp://example.com'],
      ['file:///etc/passwd'],
      ['user:pass@example.com'],
      ['evil.com@api.example.com'],
      ['example.com/path?x=1'],
      ['example.com/a/../b'],
      ['example.com?q=1'],
      ['example.com:0'],
      ['example.com:65536'],
      ['example.com:http'],
      ['*'],
      ['*.com'],
      ['api.*.com'],
      ['*example.com'],
      ['*.*.example.com'],
      ['10.0.0.0/33'],
      ['10.0.0.0/x'],
      ['[::1'],
      ['[nothex::1]'],
      ['exa mple.com'],
      ['under_score..com'],
    ])('rejects %j with RULE_INVALID', (text) => {
      expect(() => parseNetRule(text)).toThrow(SandboxError);
      try {
        parseNetRule(text);
      } catch (e) {
        expect((e as SandboxError).code).toBe('RULE_INVALID');
      }
    });
  });
});

describe('netGrantToStrings', () => {
  it('round-trips every rule form through parseNetGrant', () => {
    const texts = ['api.example.com', '*.example.com', 'api.example.com:8443', 'http://localhost:8080', 'http://example.com', '203.0.113.7', '[2001:db8::1]', '203.0.113.0/24', 'http://10.0.0.0/8:8080', '[2001:db8::]/32'];
    const grant = parseNetGrant(texts);
    expect(netGrantToStrings(grant)).toEqual(texts);
    expect(parseNetGrant(netGrantToStrings(grant))).toEqual(grant);
  });

  it('collapses duplicates that differ only in spelling', () => {
    expect(netGrantToStrings(parseNetGrant(['API.example.com', 'api.example.com.', 'https://api.example.com:443']))).toEqual(['api.example.com']);
  });
});
