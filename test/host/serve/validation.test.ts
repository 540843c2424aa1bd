/**
 * Schema patterns run in a linear-time engine (RE2 via re2js): a package's own schema cannot freeze the
 * host with a catastrophic pattern (issue 8, item 10). Each case would backtrack for hours in V8's
 * engine on its crafted input; the assertions are on the validation result, never on elapsed time.
 */
import { describe, expect, it } from 'vitest';
import { MAX_ARGUMENT_DEPTH, createToolAjv, findUnsafePattern, nestsDeeperThan, unsafeRegexReason } from '../../../host/serve/validation.ts';

describe('tool schema patterns', () => {
  // [pattern, an input that makes a backtracking engine explode, expected result]
  it.each([
    ['^(a|a)*$', `${'a'.repeat(50_000)}b`, false],
    ['^(a+)+$', `${'a'.repeat(50_000)}!`, false],
    ['(a*)*b', 'a'.repeat(50_000), false],
    ['^(.*a){20}$', 'a'.repeat(5_000), true],
    ['^(.*a){20}$', `${'a'.repeat(5_000)}b`, false],
    ['^(\\w+\\s?)*$', `${'word '.repeat(10_000)}!`, false],
  ])('runs %s on a crafted long input and answers', (pattern, input, expected) => {
    const validate = createToolAjv().compile({ type: 'object', properties: { s: { type: 'string', pattern } } });
    expect(validate({ s: input })).toBe(expected);
  });

  it('runs patternProperties in the same engine', () => {
    const validate = createToolAjv().compile({ type: 'object', patternProperties: { '^(a|a)*$': { type: 'number' } } });
    expect(validate({ [`${'a'.repeat(40_000)}b`]: 'not checked: the key does not match' })).toBe(true);
    expect(validate({ aaaa: 'x' })).toBe(false);
  });

  it('keeps ordinary patterns working', () => {
    const validate = createToolAjv().compile({
      type: 'object',
      properties: { id: { type: 'string', pattern: '^[a-z][a-z0-9-]{2,31}$' }, hex: { type: 'string', pattern: '^[0-9A-Fa-f]+$' }, word: { type: 'string', pattern: '\\bfoo\\b' }, emoji: { type: 'string', pattern: '^\\u{1F600}$' } },
    });
    expect(validate({ id: 'abc-123', hex: 'DEADbeef', word: 'a foo b', emoji: '\u{1F600}' })).toBe(true);
    expect(validate({ id: '1abc' })).toBe(false);
    expect(validate({ hex: 'xyz' })).toBe(false);
    expect(validate({ word: 'food' })).toBe(false);
  });

  it('refuses, naming why, a pattern RE2 cannot run (lookaround, backreferences)', () => {
    expect(unsafeRegexReason('^(?=a)a$')).toMatch(/linear-time/);
    expect(unsafeRegexReason('(a)\\1')).toMatch(/linear-time/);
    expect(unsafeRegexReason('(?<x>a)\\k<x>')).toMatch(/linear-time/);
    expect(findUnsafePattern({ properties: { s: { pattern: '(?<!a)b' } } })).toMatch(/^\/properties\/s\/pattern: .*linear-time/);
    // Nested quantifiers are fine now: RE2 runs them in linear time.
    expect(unsafeRegexReason('^(a+)+$')).toBeNull();
  });
});

describe('nestsDeeperThan', () => {
  const nested = (levels: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { k: v };
    return v;
  };

  it('measures depth without recursion, even at 100,000 levels', () => {
    expect(nestsDeeperThan(nested(100_000), MAX_ARGUMENT_DEPTH)).toBe(true);
  });

  it('accepts exactly the limit and refuses one more', () => {
    expect(nestsDeeperThan(nested(MAX_ARGUMENT_DEPTH), MAX_ARGUMENT_DEPTH)).toBe(false);
    expect(nestsDeeperThan(nested(MAX_ARGUMENT_DEPTH + 1), MAX_ARGUMENT_DEPTH)).toBe(true);
    expect(nestsDeeperThan('text', 1)).toBe(false);
  });
});
