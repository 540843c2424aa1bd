import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../../runtime/capabilities/net.ts';
import type { NetTarget } from '../../../runtime/capabilities/net.ts';
import { parseSecretBinding, redactSecretBytes, redactSecrets, secretBoundTo, secretForms, secretHeaderValue } from '../../../runtime/capabilities/secrets.ts';
import type { GrantedSecret } from '../../../runtime/capabilities/secrets.ts';
import { applySecretHeaders, planSecrets, secretsForHop } from '../../../runtime/io/secrets.ts';

function target(url: string): NetTarget {
  const t = parseTarget(url);
  if ('code' in t) throw new Error(t.detail);
  return t;
}

const token: GrantedSecret = { ...parseSecretBinding('GITHUB_TOKEN', { hosts: ['GET api.github.com/repos/acme/'], header: { name: 'Authorization', format: 'Bearer {}' } }), value: 'tok-123456' };
const key: GrantedSecret = { ...parseSecretBinding('MAPS_KEY', { hosts: ['*.maps.example.com'], query: 'key' }), value: 'k/ey+1=' };
const grant = { secrets: [token, key] };

describe('secretBoundTo', () => {
  it.each([
    ['https://api.github.com/repos/acme/x', 'GET', true],
    ['https://api.github.com/repos/acme', 'GET', true],
    ['https://api.github.com/repos/acme/x', 'POST', false],
    ['https://api.github.com/repos/other/x', 'GET', false],
    ['https://api.github.com/repos/acme/../other/x', 'GET', false],
    ['https://api.github.com/repos/acme%2f..%2fother', 'GET', false],
    ['http://api.github.com/repos/acme/x', 'GET', false],
    ['https://api.github.com:8443/repos/acme/x', 'GET', false],
    ['https://evil.com/repos/acme/x', 'GET', false],
    ['https://api.github.com.evil.com/repos/acme/x', 'GET', false],
  ] as const)('%s %s → %s (the net rule grammar, segment-wise)', (url, method, bound) => {
    expect(secretBoundTo(token, target(url), method)).toBe(bound);
  });
});

describe('planSecrets', () => {
  it('finds a placeholder that is the whole value of its bound header or query parameter', () => {
    expect(planSecrets(grant, 'https://a.maps.example.com/x?key={{secret:MAPS_KEY}}', [['authorization', '{{secret:GITHUB_TOKEN}}']], null).map((u) => [u.secret.name, u.header])).toEqual([
      ['GITHUB_TOKEN', 'authorization'],
      ['MAPS_KEY', null],
    ]);
  });

  it.each([
    ['inside a longer header value', 'https://x.example/', [['authorization', 'Bearer {{secret:GITHUB_TOKEN}} x']], null],
    ['in another format than its bound one', 'https://x.example/', [['authorization', 'Token {{secret:GITHUB_TOKEN}}']], null],
    ['twice in its bound format', 'https://x.example/', [['authorization', 'Bearer {{secret:GITHUB_TOKEN}}{{secret:GITHUB_TOKEN}}']], null],
    ['in another header', 'https://x.example/', [['x-token', '{{secret:GITHUB_TOKEN}}']], null],
    ['in another query parameter', 'https://x.example/?k={{secret:MAPS_KEY}}', [], null],
    ['in the path', 'https://x.example/%7B%7Bsecret:MAPS_KEY%7D%7D', [], null],
    ['in the body', 'https://x.example/', [], new TextEncoder().encode('{{secret:MAPS_KEY}}')],
    ['naming a secret not granted', 'https://x.example/', [['authorization', '{{secret:OTHER}}']], null],
  ] as const)('refuses a placeholder %s with SECRET_NOT_BOUND', (_what, url, headers, body) => {
    expect(() => planSecrets(grant, url, headers as unknown as [string, string][], body)).toThrow(expect.objectContaining({ code: 'SECRET_NOT_BOUND' }));
  });

  it('takes a header value written in the secret\'s bound format with the placeholder (code that writes its own "Bearer ${token}"), and sends the bound format once', () => {
    const headers: [string, string][] = [['authorization', 'Bearer {{secret:GITHUB_TOKEN}}']];
    const uses = planSecrets(grant, 'https://api.github.com/repos/acme/x', headers, null);
    expect(uses.map((u) => [u.secret.name, u.header])).toEqual([['GITHUB_TOKEN', 'authorization']]);
    expect(applySecretHeaders(headers, uses)).toEqual([['authorization', 'Bearer tok-123456']]);
  });

  it('refuses every placeholder when the grant holds no secrets (default deny)', () => {
    expect(() => planSecrets(undefined, 'https://x.example/', [['authorization', '{{secret:GITHUB_TOKEN}}']], null)).toThrow(expect.objectContaining({ code: 'SECRET_NOT_BOUND' }));
  });
});

describe('secretsForHop', () => {
  const uses = planSecrets(grant, 'https://api.github.com/repos/acme/x', [['authorization', '{{secret:GITHUB_TOKEN}}']], null);
  it('refuses the first hop toward an unbound target', () => {
    expect(() => secretsForHop(grant, uses, target('https://evil.com/'), 'GET', false)).toThrow(expect.objectContaining({ code: 'SECRET_NOT_BOUND' }));
  });
  it('drops a header secret at a redirect toward an unbound target, keeps it toward a bound one', () => {
    expect(secretsForHop(grant, uses, target('https://evil.com/'), 'GET', true)).toEqual([]);
    expect(secretsForHop(grant, uses, target('https://api.github.com/repos/acme/y'), 'GET', true)).toHaveLength(1);
  });
  it('refuses a redirect whose URL carries a secret value toward an unbound target', () => {
    expect(() => secretsForHop(grant, [], target('https://evil.com/?t=tok-123456'), 'GET', true)).toThrow(expect.objectContaining({ code: 'SECRET_NOT_BOUND' }));
    expect(() => secretsForHop(grant, [], target(`https://evil.com/?t=${encodeURIComponent('k/ey+1=')}`), 'GET', true)).toThrow(expect.objectContaining({ code: 'SECRET_NOT_BOUND' }));
  });
});

describe('redaction of what comes back', () => {
  it('replaces the value, its header value and its encoded forms, in text and bytes', () => {
    expect(secretHeaderValue(token)).toBe('Bearer tok-123456');
    expect(secretForms(key)).toContain(encodeURIComponent('k/ey+1='));
    const text = `a tok-123456 b Bearer tok-123456 c ${encodeURIComponent('k/ey+1=')} d ${Buffer.from('tok-123456').toString('base64')}`;
    const out = redactSecrets(grant, text);
    expect(out).toBe('a [secret:GITHUB_TOKEN] b [secret:GITHUB_TOKEN] c [secret:MAPS_KEY] d [secret:GITHUB_TOKEN]');
    expect(Buffer.from(redactSecretBytes(grant, new TextEncoder().encode(text))).toString()).toBe(out);
  });
});

describe('edge forms', () => {
  it('redacts a short secret too (a value the user chose is never passed through for being short)', () => {
    const short: GrantedSecret = { ...parseSecretBinding('PIN', { hosts: ['a.example.com'], query: 'pin' }), value: '42x' };
    expect(redactSecrets({ secrets: [short] }, 'pin=42x')).toBe('pin=[secret:PIN]');
  });

  it('refuses a redirect carrying a value with "+" and spaces in any spelling', () => {
    const odd: GrantedSecret = { ...parseSecretBinding('ODD', { hosts: ['a.example.com'], query: 'k' }), value: 'a+b c' };
    const g = { secrets: [odd] };
    for (const url of ['https://evil.com/?t=a%2Bb%20c', 'https://evil.com/?t=a%2Bb+c', 'https://evil.com/a+b%20c']) {
      expect(() => secretsForHop(g, [], target(url), 'GET', true), url).toThrow(expect.objectContaining({ code: 'SECRET_NOT_BOUND' }));
    }
  });
});
