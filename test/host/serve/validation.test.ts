/**
 * Schema patterns run in a linear-time engine (RE2 via re2js): a package's own schema cannot freeze the
 * host with a catastrophic pattern (issue 8, item 10). Each case would backtrack for hours in V8's
 * engine on its crafted input; the assertions are on the validation result, never on elapsed time.
 */
import { createRequire } from 'node:module';
import type * as AjvModule from 'ajv/dist/2020.js';
import type { Ajv2020 } from 'ajv/dist/2020.js';
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
    // The path of the one found, through arrays and patternProperties, after safe siblings.
    expect(findUnsafePattern({ anyOf: [{ pattern: '^a$' }, { items: [{ patternProperties: { '(?<!a)b': {} } }] }] }, '/in')).toMatch(/^\/in\/anyOf\/1\/items\/0\/patternProperties: /);
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

describe('maxLength and minLength', () => {
  const require = createRequire(import.meta.url);
  /** ajv with createToolAjv's options and its own length keywords. */
  const stock = (): Ajv2020 => {
    const ajv = new (require('ajv/dist/2020.js') as typeof AjvModule).Ajv2020({ strict: false, allErrors: false, validateSchema: true, addUsedSchema: false });
    const formats = require('ajv-formats') as { default?: unknown };
    ((formats.default ?? formats) as (a: Ajv2020) => Ajv2020)(ajv);
    return ajv;
  };
  const pair = '\u{1F600}'; // one code point, two UTF-16 units
  const strings = ['', 'a', 'ab', 'abc', 'abcd', pair, `${pair}${pair}`, `a${pair}`, `${pair}${pair}a`, '\uD800', '\uD800a', '\uDC00\uD800', `${'x'.repeat(9)}${pair}`, 'é', 'x'.repeat(20), pair.repeat(10)];
  const schemas: object[] = [
    { type: 'string', maxLength: 2 },
    { type: 'string', minLength: 2 },
    { type: 'string', minLength: 3, maxLength: 3 },
    { type: 'string', maxLength: 10 },
    { type: 'string', minLength: 10 },
    { type: 'string', maxLength: 0 },
    { type: 'string', minLength: 0 },
    { type: 'string', maxLength: 2, pattern: '^b' },
    { type: 'string', minLength: 2, format: 'email' },
    { type: 'object', properties: { s: { type: 'string', maxLength: 3 } } },
  ];

  it('count code points, with the same answers and errors as ajv', () => {
    for (const schema of schemas) {
      const ours = createToolAjv().compile(schema);
      const theirs = stock().compile(schema);
      for (const s of strings) {
        const data = (schema as { type: string }).type === 'object' ? { s } : s;
        expect([ours(data), ours.errors]).toEqual([theirs(data), theirs.errors]);
      }
    }
  });

  it('count the code points of a long string only when its UTF-16 length leaves the answer open', () => {
    const module = require('ajv/dist/runtime/ucs2length') as { default: ((s: string) => number) & { code?: string } };
    const original = module.default;
    let counted = 0;
    module.default = Object.assign((s: string) => {
      counted++;
      return original(s);
    }, { code: original.code });
    try {
      const max = createToolAjv().compile({ type: 'string', maxLength: 1_000_000 });
      const min = createToolAjv().compile({ type: 'string', minLength: 10 });
      expect(max('x'.repeat(100_000))).toBe(true);
      expect(min('x'.repeat(100_000))).toBe(true);
      expect(counted).toBe(0);
      // 1 000 002 UTF-16 units, 500 001 code points: over the limit by length, within it by code points.
      expect(max(pair.repeat(500_001))).toBe(true);
      expect(min(pair.repeat(9))).toBe(false);
      expect(counted).toBe(2);
    } finally {
      module.default = original;
    }
  });
});
