import { describe, expect, it } from 'vitest';
import { parseNpmSpec, resolveVersion } from '../../../host/registry/resolve.ts';
import { codeOf } from '../../helpers/codes.ts';

const INTEGRITY = `sha512-${Buffer.alloc(64, 1).toString('base64')}`;
const version = (v: string, extra: object = {}): object => ({ name: 'tool', version: v, dist: { tarball: `https://r.example/tool/-/tool-${v}.tgz`, integrity: INTEGRITY }, ...extra });
const packument = { name: 'tool', 'dist-tags': { latest: '1.2.0', next: '2.0.0-beta.1' }, versions: { '1.0.0': version('1.0.0'), '1.2.0': version('1.2.0'), '1.3.0': version('1.3.0'), '2.0.0-beta.1': version('2.0.0-beta.1') } };

describe('parseNpmSpec', () => {
  it.each([
    ['tool', 'tool', 'latest'],
    ['npm:tool', 'tool', 'latest'],
    ['tool@1.2.0', 'tool', '1.2.0'],
    ['tool@^1.0.0', 'tool', '^1.0.0'],
    ['tool@next', 'tool', 'next'],
    ['@acme/tool@~1.1', '@acme/tool', '~1.1'],
    ['npm:@acme/tool', '@acme/tool', 'latest'],
  ])('reads %s as %s wanting %s', (spec, name, wanted) => {
    expect(parseNpmSpec(spec)).toMatchObject({ name, wanted });
  });
  it('escapes a scoped name as the registry expects', () => {
    expect(parseNpmSpec('@acme/tool')?.escapedName).toBe('@acme%2ftool');
  });
  it.each(['./tool.tgz', 'tool.tgz', '/abs/tool.tgz', 'https://x.example/t.tgz', 'github:acme/tool', 'alias@npm:tool', '', 'file:../x'])('is not a registry spec: %s', (spec) => {
    expect(parseNpmSpec(spec)).toBeUndefined();
  });
});

describe('resolveVersion', () => {
  it('picks the latest tag, a version, a range as npm does (latest when it satisfies, else the highest), a tag', () => {
    const r = (w: string): string => resolveVersion({ name: 'tool', wanted: w, escapedName: 'tool' }, packument).version;
    expect(r('latest')).toBe('1.2.0');
    expect(r('1.0.0')).toBe('1.0.0');
    expect(r('^1.0.0')).toBe('1.2.0');
    expect(r('^1.2.1')).toBe('1.3.0');
    expect(r('next')).toBe('2.0.0-beta.1');
  });
  it('refuses a version that does not exist', () => {
    expect(codeOf(() => resolveVersion({ name: 'tool', wanted: '^3', escapedName: 'tool' }, packument))).toBe('PACKAGE_NOT_FOUND');
  });
  it.each([
    ['not an object', 'garbage'],
    ['another name', { ...packument, name: 'other' }],
    ['no versions', { name: 'tool' }],
    ['a sha1-only dist', { name: 'tool', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { name: 'tool', version: '1.0.0', dist: { tarball: 'https://r.example/t.tgz', shasum: 'ab' } } } }],
    ['a version entry for another package', { name: 'tool', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { ...version('1.0.0'), name: 'evil' } } }],
    ['a malformed dist.attestations', { name: 'tool', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': version('1.0.0', {}) && { ...version('1.0.0'), dist: { tarball: 'https://r.example/t.tgz', integrity: INTEGRITY, attestations: 'x' } } } }],
  ])('refuses a packument with %s', (_, doc) => {
    expect(codeOf(() => resolveVersion({ name: 'tool', wanted: 'latest', escapedName: 'tool' }, doc))).toBe('REGISTRY_RESPONSE_INVALID');
  });
  it('reports runtime and optional dependencies', () => {
    const doc = { name: 'tool', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': version('1.0.0', { dependencies: { a: '1' }, optionalDependencies: { b: '1' } }) } };
    expect(resolveVersion({ name: 'tool', wanted: 'latest', escapedName: 'tool' }, doc).dependencies).toEqual(['a', 'b']);
  });
});
