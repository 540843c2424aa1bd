import { describe, expect, it } from 'vitest';
import { checkNetAddress, checkNetTarget, intersectNetGrants, netGrantToStrings, parseNetGrant, parseNetRule, parseTarget, sendsCheckedPath } from '../../../runtime/capabilities/net.ts';
import type { NetTarget } from '../../../runtime/capabilities/net.ts';
import { normalizePath } from '../../../runtime/capabilities/net-path.ts';
import { SandboxError } from '../../../runtime/errors.ts';

function target(url: string): NetTarget {
  const t = parseTarget(url);
  if ('code' in t) throw new Error(`not a target: ${url}`);
  return t;
}

function decide(rules: string[], method: string, url: string): string {
  const d = checkNetTarget(parseNetGrant(rules), target(url), method);
  return d.allowed ? 'allowed' : d.code;
}

const RULE = 'GET,HEAD https://api.github.com/repos/acme/';

describe('path and method rules', () => {
  describe('the normalisation table: each form against GET,HEAD https://api.github.com/repos/acme/', () => {
    it.each([
      // Allowed: inside the prefix, however it is spelled.
      ['GET', 'https://api.github.com/repos/acme', 'allowed'],
      ['GET', 'https://api.github.com/repos/acme/', 'allowed'],
      ['GET', 'https://api.github.com/repos/acme/widgets/issues?state=open', 'allowed'],
      ['HEAD', 'https://api.github.com/repos/acme/widgets', 'allowed'],
      ['GET', 'https://API.GitHub.COM/repos/acme/x', 'allowed'], // host case-insensitive
      ['GET', 'HTTPS://api.github.com/repos/acme/x', 'allowed'], // scheme case-insensitive
      ['GET', 'https://api.github.com/repos/%61cme/x', 'allowed'], // unreserved escape decoded
      ['GET', 'https://api.github.com/repos/acme/%7Euser', 'allowed'],
      ['GET', 'https://api.github.com/repos//acme/x', 'allowed'], // duplicate slash collapsed (and sent collapsed)
      ['GET', 'https://api.github.com/repos/acme/a/../b', 'allowed'], // a dot segment that stays inside
      ['GET', 'https://api.github.com/repos/acme/x%20y', 'allowed'],
      // Refused: outside the prefix.
      ['GET', 'https://api.github.com/repos/other/x', 'NET_PATH_NOT_GRANTED'],
      ['GET', 'https://api.github.com/repos/acmex', 'NET_PATH_NOT_GRANTED'], // segment-wise, not string prefix
      ['GET', 'https://api.github.com/repos/acme-evil/x', 'NET_PATH_NOT_GRANTED'],
      ['GET', 'https://api.github.com/repos', 'NET_PATH_NOT_GRANTED'],
      ['GET', 'https://api.github.com/', 'NET_PATH_NOT_GRANTED'],
      ['GET', 'https://api.github.com/Repos/acme/x', 'NET_PATH_NOT_GRANTED'], // path case-sensitive
      ['GET', 'https://api.github.com/repos/ACME/x', 'NET_PATH_NOT_GRANTED'],
      ['GET', 'https://api.github.com/repos/acme/../other', 'NET_PATH_NOT_GRANTED'], // dot segments resolved first
      ['GET', 'https://api.github.com/repos/acme/./../other', 'NET_PATH_NOT_GRANTED'],
      ['GET', 'https://api.github.com/repos/acme/%2e%2e/other', 'NET_PATH_NOT_GRANTED'], // encoded dot segment
      ['GET', 'https://api.github.com/repos/acme/%2E%2E/other', 'NET_PATH_NOT_GRANTED'],
      ['GET', 'https://api.github.com/repos/acme/.%2e/other', 'NET_PATH_NOT_GRANTED'],
      ['GET', 'https://api.github.com/repos/acme\\..\\other', 'NET_PATH_NOT_GRANTED'], // a backslash is a slash
      ['GET', 'https://api.github.com/repos/acme/..%2Fother', 'NET_PATH_NOT_GRANTED'], // encoded slash: refused
      ['GET', 'https://api.github.com/repos/acme/x%2f..%2f..%2fother', 'NET_PATH_NOT_GRANTED'],
      ['GET', 'https://api.github.com/repos/acme/x%5C..%5C..%5Cother', 'NET_PATH_NOT_GRANTED'], // encoded backslash
      ['GET', 'https://api.github.com/repos/acme%2Fx', 'NET_PATH_NOT_GRANTED'],
      ['GET', 'https://api.github.com/repos/acme/..;/other', 'NET_PATH_NOT_GRANTED'], // Tomcat path parameter
      ['GET', 'https://api.github.com/repos/acme/%2e%2e;x/other', 'NET_PATH_NOT_GRANTED'],
      ['GET', 'https://api.github.com//repos/other', 'NET_PATH_NOT_GRANTED'],
      // Refused: inside the prefix, but another method.
      ['POST', 'https://api.github.com/repos/acme/x', 'NET_METHOD_NOT_GRANTED'],
      ['DELETE', 'https://api.github.com/repos/acme/x', 'NET_METHOD_NOT_GRANTED'],
      ['get', 'https://api.github.com/repos/acme/x', 'NET_METHOD_NOT_GRANTED'], // rules hold upper-case names; the fetch normalises first
      ['PURGE', 'https://api.github.com/repos/acme/x', 'NET_METHOD_NOT_GRANTED'],
      // Refused as before: host, scheme, port.
      ['GET', 'https://github.com/repos/acme/x', 'NET_NOT_GRANTED'],
      ['GET', 'http://api.github.com/repos/acme/x', 'NET_SCHEME_NOT_ALLOWED'],
      ['GET', 'https://api.github.com:8443/repos/acme/x', 'NET_PORT_NOT_GRANTED'],
    ])('%s %s → %s', (method, url, expected) => {
      expect(decide([RULE], method, url)).toBe(expected);
    });
  });

  it('a dot segment under the prefix still refuses a path rule even if the parser left it (defence in depth)', () => {
    expect(normalizePath('/repos/acme/../x').problem).toBe('a dot segment in the path');
    expect(normalizePath('/repos/acme/%2e%2E/x').problem).toBe('a dot segment in the path');
    expect(normalizePath('/repos//acme/%7e%3a').path).toBe('/repos/acme/~%3A');
  });

  it('an encoded slash is allowed by a rule without a path: such a rule means what it always meant', () => {
    expect(decide(['api.github.com'], 'PUT', 'https://api.github.com/repos/acme%2F..%2Fother')).toBe('allowed');
    expect(decide(['api.github.com', RULE], 'POST', 'https://api.github.com/anything')).toBe('allowed');
  });

  it('without a method, only rules that name no methods match', () => {
    expect(checkNetTarget(parseNetGrant([RULE]), target('https://api.github.com/repos/acme/x')).allowed).toBe(false);
    expect(checkNetTarget(parseNetGrant(['api.github.com/repos/acme/']), target('https://api.github.com/repos/acme/x')).allowed).toBe(true);
  });

  it('a private address is granted only by a rule that admits the request’s path and method', () => {
    const grant = parseNetGrant(['http://api.test', 'GET http://10.0.0.5:80/only/']);
    expect(checkNetAddress(grant, target('http://api.test/only/x'), '10.0.0.5', 'GET').allowed).toBe(true);
    expect(checkNetAddress(grant, target('http://api.test/other'), '10.0.0.5', 'GET')).toMatchObject({ code: 'NET_PRIVATE_ADDRESS' });
    expect(checkNetAddress(grant, target('http://api.test/only/x'), '10.0.0.5', 'POST')).toMatchObject({ code: 'NET_PRIVATE_ADDRESS' });
  });

  it('sends the checked path only when path rules alone admit the request', () => {
    expect(sendsCheckedPath(parseNetGrant([RULE]), target('https://api.github.com/repos//acme/x'), 'GET')).toBe(true);
    expect(sendsCheckedPath(parseNetGrant([RULE, 'api.github.com']), target('https://api.github.com/repos//acme/x'), 'GET')).toBe(false);
  });

  describe('parsing', () => {
    it.each([
      ['GET,HEAD https://api.github.com/repos/acme/', 'GET,HEAD api.github.com/repos/acme/'],
      ['head,get api.github.com/repos/acme', 'GET,HEAD api.github.com/repos/acme/'],
      ['GET, POST api.example.com', null],
      ['POST api.example.com', 'POST api.example.com'],
      ['api.example.com/', 'api.example.com'], // "/" alone restricts nothing
      ['api.example.com/v1//items/', 'api.example.com/v1/items/'],
      ['api.example.com/%7euser/', 'api.example.com/~user/'],
      ['registry.example.com/@acme/', 'registry.example.com/@acme/'],
      ['api.example.com/2/tweets', 'api.example.com/2/tweets/'],
      ['http://localhost:8080/api/', 'http://localhost:8080/api/'],
      ['*.example.com/v1/', '*.example.com/v1/'],
      ['203.0.113.7:443/api/', '203.0.113.7:443/api/'],
      ['http://10.0.0.0/8:8080/api/', 'http://10.0.0.0/8:8080/api/'],
      ['[2001:db8::1]:443/api', '[2001:db8::1]:443/api/'],
      ['GET 10.0.0.0/8', 'GET 10.0.0.0/8'],
      ['api.example.com/files/ü/', 'api.example.com/files/%C3%BC/'],
    ])('%j → %j', (text, canonical) => {
      if (canonical === null) {
        expect(() => parseNetRule(text)).toThrow(SandboxError);
        return;
      }
      const g = parseNetGrant([text]);
      expect(netGrantToStrings(g)).toEqual([canonical]);
      expect(parseNetGrant(netGrantToStrings(g))).toEqual(g);
    });

    it.each([
      ['api.example.com/a?b=1'],
      ['api.example.com/a#b'],
      ['api.example.com/a/../b'],
      ['api.example.com/a/%2e%2e/b'],
      ['api.example.com/a/./b'],
      ['api.example.com/a%2Fb'],
      ['api.example.com/a%5cb'],
      ['api.example.com/a\\b'],
      ['api.example.com/a%zz'],
      ['api.example.com/a b'],
      ['FETCH api.example.com'],
      ['GET,,HEAD api.example.com'],
      ['GET api.example.com extra'],
      ['CONNECT api.example.com'],
      ['203.0.113.7/api/'],
      ['[2001:db8::1]/api'],
      ['10.0.0.0/x'],
      ['user@api.example.com/x'],
    ])('refuses %j with RULE_INVALID', (text) => {
      let code = 'no error';
      try {
        parseNetRule(text);
      } catch (e) {
        code = (e as SandboxError).code;
      }
      expect(code).toBe('RULE_INVALID');
    });
  });

  describe('intersection of a manifest rule and a user rule never widens either', () => {
    const rules = [
      'api.example.com',
      'GET api.example.com',
      'GET,HEAD api.example.com',
      'POST api.example.com',
      'api.example.com/v1/',
      'GET api.example.com/v1/',
      'api.example.com/v1/items/',
      'GET,POST api.example.com/v1/items/',
      'api.example.com/v2/',
      'api.example.com/v1x/',
      '*.example.com/v1/',
      'DELETE *.example.com',
    ];
    const probes = ['GET', 'HEAD', 'POST', 'DELETE', 'PUT'].flatMap((m) =>
      ['/', '/v1', '/v1/', '/v1/items', '/v1/items/9', '/v1x/a', '/v2/a', '/v1//items/x', '/v1/items/..%2F..%2Fv2'].map((p) => [m, `https://api.example.com${p}`] as const),
    );
    it.each(rules.flatMap((a) => rules.map((b) => [a, b] as const)))('%j ∩ %j', (a, b) => {
      const both = intersectNetGrants(parseNetGrant([a]), parseNetGrant([b]));
      for (const [method, url] of probes) {
        const t = target(url);
        const ok = (g: ReturnType<typeof parseNetGrant>) => checkNetTarget(g, t, method).allowed;
        expect([method, url, ok(both)]).toEqual([method, url, ok(parseNetGrant([a])) && ok(parseNetGrant([b]))]);
      }
    });

    it('keeps the deeper path and the common methods', () => {
      const both = intersectNetGrants(parseNetGrant(['GET,POST api.example.com/v1/']), parseNetGrant(['GET,HEAD api.example.com/v1/items/']));
      expect(netGrantToStrings(both)).toEqual(['GET api.example.com/v1/items/']);
      expect(netGrantToStrings(intersectNetGrants(parseNetGrant(['POST api.example.com']), parseNetGrant(['GET api.example.com'])))).toEqual([]);
      expect(netGrantToStrings(intersectNetGrants(parseNetGrant(['api.example.com/v1/']), parseNetGrant(['api.example.com/v2/'])))).toEqual([]);
    });
  });
});
