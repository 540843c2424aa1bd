import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PACKAGE_PREDICATE_TYPE, npmPurl, packagePredicate, packageStatement, parseStatement, statementPayload } from '../../../host/signing/statement.ts';

describe('package statements', () => {
  it.each([
    ['echo', '1.0.0', 'pkg:npm/echo@1.0.0'],
    ['@acme/echo', '1.0.0', 'pkg:npm/%40acme/echo@1.0.0'],
    ['@acme/echo', '1.0.0+build.5', 'pkg:npm/%40acme/echo@1.0.0%2Bbuild.5'],
  ])('names %s@%s as %s', (name, version, purl) => {
    expect(npmPurl(name, version)).toBe(purl);
  });

  it('binds name, version and the tarball sha512 in subject and predicate', () => {
    const tarball = Buffer.from('tarball bytes');
    const s = packageStatement({ name: '@acme/echo', version: '1.0.0', integrity: 'sha512-x' }, tarball);
    expect(s.subject).toEqual([{ name: 'pkg:npm/%40acme/echo@1.0.0', digest: { sha512: createHash('sha512').update(tarball).digest('hex') } }]);
    expect(s.predicateType).toBe(PACKAGE_PREDICATE_TYPE);
    const parsed = parseStatement(statementPayload(s));
    expect(parsed).toEqual(s);
    expect(parsed && packagePredicate(parsed)).toEqual({ name: '@acme/echo', version: '1.0.0', integrity: 'sha512-x' });
  });

  it.each([
    ['not JSON', 'nope'],
    ['another type', '{"_type":"x","subject":[],"predicateType":"p"}'],
    ['subjects without digests', '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a"}],"predicateType":"p"}'],
    ['a non-string digest', '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha512":1}}],"predicateType":"p"}'],
  ])('does not parse %s as a statement', (_what, text) => {
    expect(parseStatement(Buffer.from(text))).toBeNull();
  });
});
