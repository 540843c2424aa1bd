import { describe, expect, it } from 'vitest';
import { MAX_URI_LENGTH, parseUriTemplate } from '../../../../host/serve/features/uri-template.ts';

describe('parseUriTemplate', () => {
  it.each([
    ['notes://{id}', 'notes://alpha', { id: 'alpha' }],
    ['notes://{id}', 'notes://a%20b', { id: 'a b' }],
    ['file:///{+path}', 'file:///a/b/c.txt', { path: 'a/b/c.txt' }],
    ['test://template/{id}/data', 'test://template/42/data', { id: '42' }],
    ['x://h{/a,b}', 'x://h/1/2', { a: '1', b: '2' }],
    ['x://h{/list*}', 'x://h/1/2/3', { list: ['1', '2', '3'] }],
    ['x://h/{a,b}', 'x://h/1,2', { a: '1', b: '2' }],
    ['x://h/f{.ext}', 'x://h/f.json', { ext: 'json' }],
    ['x://h/s{?q,page}', 'x://h/s?page=2&q=a%26b', { q: 'a&b', page: '2' }],
    ['x://h/s{?q,page}', 'x://h/s', {}],
    ['x://h/s?fixed=1{&page}', 'x://h/s?fixed=1&page=3', { page: '3' }],
    ['x://h/{id:3}', 'x://h/abc', { id: 'abc' }],
    ['x://h/m{;v}', 'x://h/m;v=1', { v: '1' }],
  ])('%s matches %s', (template, uri, expected) => {
    expect({ ...parseUriTemplate(template).match(uri) }).toEqual(expected);
  });

  it.each([
    ['notes://{id}', 'notes://a/b'],
    ['notes://{id}', 'other://a'],
    ['x://h/{id:3}', 'x://h/abcd'],
    ['notes://{id}', 'notes://%E0%A4%A'],
    ['x://h/s{?q}', 'x://h/s?q=1&q=2'],
  ])('%s does not match %s', (template, uri) => {
    expect(parseUriTemplate(template).match(uri)).toBeNull();
  });

  it('lists its variables once, in order', () => {
    expect(parseUriTemplate('x://{a}/{+b}{?c,d}').variables).toEqual(['a', 'b', 'c', 'd']);
  });

  it.each([
    ['x://{a', 'unclosed'],
    ['x://a}', 'without'],
    ['x://{}', 'empty'],
    ['x://{=a}', 'reserved operator'],
    ['x://{a b}', 'not a valid variable name'],
    ['x://{a}{a}', 'twice'],
    ['x://{a:0}', 'prefix length'],
    ['x://{?q}/more', 'after a query'],
    ['x:// {a}', 'may not contain'],
    ['x://' + '{a}'.repeat(17), 'expressions'],
    ['x://' + 'a'.repeat(1100), 'characters'],
  ])('refuses %s', (template, why) => {
    expect(() => parseUriTemplate(template.slice(0, 2000))).toThrow(why);
  });

  it('matches hostile input in linear time: adjacent greedy expressions and a huge URI', () => {
    const t = parseUriTemplate('x://{+a}{+b}{+c}{+d}{+e}{+f}!');
    const uri = `x://${'a'.repeat(MAX_URI_LENGTH - 10)}`;
    // A backtracking engine takes O(n^6) steps to fail here; RE2 does not backtrack.
    expect(t.match(uri)).toBeNull();
    expect(t.match(`${uri}!`)).not.toBeNull();
    expect(t.match(`x://${'a'.repeat(MAX_URI_LENGTH)}!`)).toBeNull();
  });

  it('a variable named __proto__ is an own value, not a prototype', () => {
    const v = parseUriTemplate('x://{__proto__}').match('x://polluted') as Record<string, unknown>;
    expect(Object.getOwnPropertyNames(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
