/** Asked rules (runtime/capabilities/ask.ts): matched only for what the grant refused; a refusal wins. */
import { describe, expect, it } from 'vitest';
import { fsAccessOf, fsGrantWith, matchFsAsk, matchNetAsk, netGrantWith, parseAskGrant } from '../../../runtime/capabilities/ask.ts';
import { parseFsGrant } from '../../../runtime/capabilities/fs.ts';
import { parseNetGrant, parseTarget } from '../../../runtime/capabilities/net.ts';
import type { NetTarget } from '../../../runtime/capabilities/net.ts';

const none = { net: [], fs: [] };
const target = (url: string): NetTarget => parseTarget(url) as NetTarget;

describe('parseAskGrant', () => {
  it('keeps the asked rules that are neither granted nor refused, and the refused ones apart', () => {
    const g = parseAskGrant({ net: ['a.example.com', 'b.example.com', 'c.example.com'], fs: ['write:/srv/notes'] }, { net: ['b.example.com'], fs: [] }, { net: ['c.example.com'], fs: [] });
    expect(g.ask.map((r) => r.text)).toEqual(['a.example.com', 'write:/srv/notes']);
    expect(g.refused.map((r) => r.text)).toEqual(['b.example.com']);
  });

  it('ignores a refusal of a rule the package does not ask for', () => {
    expect(parseAskGrant({ net: ['a.example.com'], fs: [] }, { net: ['evil.example.com'], fs: [] }, none).refused).toEqual([]);
  });

  it('refuses a rule that does not parse (RULE_INVALID)', () => {
    expect(() => parseAskGrant({ net: ['https://user:pw@a.example.com'], fs: [] }, none, none)).toThrow(expect.objectContaining({ code: 'RULE_INVALID' }));
  });
});

describe('matchNetAsk', () => {
  const g = parseAskGrant({ net: ['GET api.example.com/v1/', 'http://127.0.0.1:8080'], fs: [] }, none, none);

  it.each([
    ['https://api.example.com/v1/forecast', 'GET', 'GET api.example.com/v1/'],
    ['https://api.example.com/v2/forecast', 'GET', null],
    ['https://api.example.com/v1/forecast', 'POST', null],
    ['https://api.example.com.evil.net/v1/', 'GET', null],
    ['http://127.0.0.1:8080/x', 'GET', 'http://127.0.0.1:8080'],
    ['http://2130706433:8080/x', 'GET', 'http://127.0.0.1:8080'],
    ['https://127.0.0.1:8080/x', 'GET', null],
  ])('%s %s → %s', (url, method, rule) => {
    const m = matchNetAsk(g, target(url), method);
    expect(m === null ? null : m.rule.text).toBe(rule);
    if (m !== null) expect(m.kind).toBe('ask');
  });

  it('answers with the refusal when a refused rule admits the request, as deny wins over allow', () => {
    const both = parseAskGrant({ net: ['api.example.com', '*.example.com'], fs: [] }, { net: ['*.example.com'], fs: [] }, none);
    expect(matchNetAsk(both, target('https://api.example.com/'), 'GET')).toMatchObject({ kind: 'refused', rule: { text: '*.example.com' } });
  });
});

describe('matchFsAsk', () => {
  const g = parseAskGrant({ net: [], fs: ['write:/srv/notes', 'read:/srv/docs'] }, none, none);

  it.each([
    ['write', '/srv/notes/a.txt', 'write:/srv/notes'],
    ['read', '/srv/notes', 'write:/srv/notes'],
    ['write', '/srv/notes-other/a.txt', null],
    ['read', '/srv/docs/x', 'read:/srv/docs'],
    ['write', '/srv/docs/x', null],
  ] as const)('%s %s → %s', (access, path, rule) => {
    const m = matchFsAsk(g, access, path);
    expect(m === null ? null : m.rule.text).toBe(rule);
  });

  it('names the access each file operation needs', () => {
    expect(['fs.readFile', 'fs.readdir', 'fs.stat'].map(fsAccessOf)).toEqual(['read', 'read', 'read']);
    expect(['fs.writeFile', 'fs.mkdir', 'fs.rm'].map(fsAccessOf)).toEqual(['write', 'write', 'write']);
  });
});

describe('widening a grant by one consented rule', () => {
  it('adds exactly that rule, and what the grant denies stays denied', () => {
    const g = parseAskGrant({ net: ['api.example.com'], fs: ['write:/srv/notes'] }, none, none);
    const [net, fs] = [g.ask[0], g.ask[1]];
    if (net === undefined || fs === undefined) throw new Error('rules missing');
    expect(netGrantWith(parseNetGrant(['other.example.com']), net).rules).toHaveLength(2);
    const widened = fsGrantWith({ ...parseFsGrant([]), deny: ['/srv/notes/.secret'] }, fs);
    expect(widened).toEqual({ rules: [{ access: 'write', path: '/srv/notes' }], deny: ['/srv/notes/.secret'] });
    expect(() => netGrantWith(parseNetGrant([]), fs)).toThrow(expect.objectContaining({ code: 'RULE_INVALID' }));
  });
});
