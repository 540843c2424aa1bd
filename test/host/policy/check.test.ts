import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../../runtime/index.ts';
import { checkPackage, clampLimits, maximumLimits, parseRecordedSigner, strictDefinitions } from '../../../host/policy/check.ts';
import type { PackageFacts } from '../../../host/policy/check.ts';
import { parsePolicy } from '../../../host/policy/parse.ts';
import type { OrgPolicy } from '../../../host/policy/parse.ts';

const KEY_A = 'a'.repeat(64);
const KEY_B = 'b'.repeat(64);
const GH = 'https://token.actions.githubusercontent.com';
const keyless = (issuer: string, identity: string): string => `keyless:${JSON.stringify([issuer, identity])}`;
const provenance = (repo: string, workflow = '.github/workflows/release.yml', issuer = GH): string => `provenance:${JSON.stringify([issuer, repo, workflow, 'refs/tags/v1.0.0'])}`;
const DIGEST = `sha512-${'A'.repeat(86)}==`;

function policy(...docs: unknown[]): OrgPolicy {
  return { layers: docs.map((d, i) => parsePolicy(d, `/policy/${i}.json`)) };
}

function codes(p: OrgPolicy, facts: PackageFacts): string[] {
  return checkPackage(p, facts).map((r) => r.code);
}

describe('parseRecordedSigner', () => {
  it.each([
    [`key:${KEY_A}`, { kind: 'key', keyId: KEY_A }],
    [keyless('https://issuer', 'me@example.com'), { kind: 'identity', issuer: 'https://issuer', identity: 'me@example.com' }],
    [provenance('github.com/acme/tool'), { kind: 'provenance', issuer: GH, repository: 'github.com/acme/tool', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v1.0.0' }],
    ['key:ABC', undefined],
    ['keyless:["only-one"]', undefined],
    ['provenance:not json', undefined],
    ['acme', undefined],
  ])('%s', (id, expected) => {
    expect(parseRecordedSigner(id)).toEqual(expected);
  });
});

describe('allowed signers', () => {
  const p = policy({
    signers: [
      { kind: 'key', keyId: KEY_A },
      { kind: 'key', keyId: KEY_B, scope: ['@acme/*'] },
      { kind: 'identity', identity: 'release@acme.example', issuer: 'https://accounts.example' },
      { kind: 'provenance', repository: 'github.com/acme/tool', issuer: GH },
      { kind: 'provenance', repository: 'github.com/acme/pinned', workflow: '.github/workflows/release.yml', issuer: GH },
    ],
  });
  it.each([
    ['an allowed key', 'x', `key:${KEY_A}`, []],
    ['another key', 'x', `key:${'c'.repeat(64)}`, ['POLICY_SIGNER_NOT_ALLOWED']],
    ['a scoped key inside its scope', '@acme/tool', `key:${KEY_B}`, []],
    ['a scoped key outside its scope (a look-alike scope)', '@acme-evil/tool', `key:${KEY_B}`, ['POLICY_SIGNER_NOT_ALLOWED']],
    ['a scoped key on an unscoped name', 'acme', `key:${KEY_B}`, ['POLICY_SIGNER_NOT_ALLOWED']],
    ['the keyless identity and issuer', 'x', keyless('https://accounts.example', 'release@acme.example'), []],
    ['the identity from another issuer', 'x', keyless('https://evil.example', 'release@acme.example'), ['POLICY_SIGNER_NOT_ALLOWED']],
    ['another identity with a matching prefix', 'x', keyless('https://accounts.example', 'release@acme.example.evil'), ['POLICY_SIGNER_NOT_ALLOWED']],
    ['provenance of the repository, any workflow', 'x', provenance('github.com/acme/tool', '.github/workflows/other.yml'), []],
    ['provenance of another repository', 'x', provenance('github.com/acme/tool-fork'), ['POLICY_SIGNER_NOT_ALLOWED']],
    ['provenance from another issuer', 'x', provenance('github.com/acme/tool', '.github/workflows/release.yml', 'https://gitlab.example'), ['POLICY_SIGNER_NOT_ALLOWED']],
    ['provenance of the pinned workflow', 'x', provenance('github.com/acme/pinned'), []],
    ['provenance of another workflow than the pinned one', 'x', provenance('github.com/acme/pinned', '.github/workflows/pr.yml'), ['POLICY_SIGNER_NOT_ALLOWED']],
    ['an unsigned --dev package', 'x', undefined, ['POLICY_SIGNER_NOT_ALLOWED']],
  ])('%s', (_label, name, signer, expected) => {
    expect(codes(p, { name, ...(signer === undefined ? {} : { signer }) })).toEqual(expected);
  });

  it('allows any signer when the policy has no signer list, and none when the list is empty', () => {
    expect(codes(policy({}), { name: 'x', signer: `key:${KEY_A}` })).toEqual([]);
    expect(codes(policy({}), { name: 'x' })).toEqual([]);
    expect(codes(policy({ signers: [] }), { name: 'x', signer: `key:${KEY_A}` })).toEqual(['POLICY_SIGNER_NOT_ALLOWED']);
  });
});

describe('blocked packages', () => {
  const p = policy({ blocked: { packages: ['left-pad', '@evil/*'], digests: [DIGEST] } });
  it.each([
    ['an exact name', 'left-pad', undefined, ['POLICY_PACKAGE_BLOCKED']],
    ['a name that only starts like a blocked one', 'left-pad-2', undefined, []],
    ['every package of a blocked scope', '@evil/anything', undefined, ['POLICY_PACKAGE_BLOCKED']],
    ['a look-alike scope', '@evil-not/x', undefined, []],
    ['a blocked tarball digest, whatever the name', 'fine', DIGEST, ['POLICY_PACKAGE_BLOCKED']],
    ['another digest', 'fine', `sha512-${'B'.repeat(86)}==`, []],
  ])('%s', (_label, name, integrity, expected) => {
    expect(codes(p, { name, ...(integrity ? { integrity } : {}) })).toEqual(expected);
  });
});

describe('capability ceilings', () => {
  const net = policy({ capabilities: { net: ['*.corp.example', 'GET api.partner.example/v1/'] } });
  it.each([
    ['a subdomain under the wildcard', ['api.corp.example'], []],
    ['a deeper wildcard under the wildcard', ['*.eu.corp.example'], []],
    ['the apex (the wildcard matches subdomains only)', ['corp.example'], ['POLICY_CAPABILITY_DENIED']],
    ['plain http (the ceiling is https:443)', ['http://api.corp.example'], ['POLICY_CAPABILITY_DENIED']],
    ['another port', ['api.corp.example:8443'], ['POLICY_CAPABILITY_DENIED']],
    ['a look-alike suffix', ['api.corp.example.evil.com'], ['POLICY_CAPABILITY_DENIED']],
    ['a narrower path and method', ['GET api.partner.example/v1/items/'], []],
    ['the host with every method (wider than GET)', ['api.partner.example/v1/'], ['POLICY_CAPABILITY_DENIED']],
    ['a wider path', ['GET api.partner.example/'], ['POLICY_CAPABILITY_DENIED']],
    ['one rule out of two beyond', ['a.corp.example', 'example.org'], ['POLICY_CAPABILITY_DENIED']],
    ['no network at all', [], []],
  ])('net: %s', (_label, rules, expected) => {
    expect(codes(net, { name: 'x', grant: { net: rules, fs: [] } })).toEqual(expected);
  });

  it('net: an empty ceiling allows no network', () => {
    expect(codes(policy({ capabilities: { net: [] } }), { name: 'x', grant: { net: ['api.corp.example'], fs: [] } })).toEqual(['POLICY_CAPABILITY_DENIED']);
  });

  it.each([
    ['none', 'none', ['read:/srv/data'], ['POLICY_CAPABILITY_DENIED']],
    ['none, without file rules', 'none', [], []],
    ['read-only: a read rule', 'read', ['read:/home/u/proj'], []],
    ['read-only: a write rule', 'read', ['write:/home/u/proj'], ['POLICY_CAPABILITY_DENIED']],
    ['prefixes: inside a read prefix', ['read:/srv/data', 'write:/srv/out'], ['read:/srv/data/x'], []],
    ['prefixes: write under a read-only prefix', ['read:/srv/data', 'write:/srv/out'], ['write:/srv/data/x'], ['POLICY_CAPABILITY_DENIED']],
    ['prefixes: write under a write prefix', ['read:/srv/data', 'write:/srv/out'], ['write:/srv/out/a'], []],
    ['prefixes: a sibling sharing the prefix string (/srv/database)', ['read:/srv/data'], ['read:/srv/database'], ['POLICY_CAPABILITY_DENIED']],
    ['prefixes: the parent of a prefix', ['read:/srv/data'], ['read:/srv'], ['POLICY_CAPABILITY_DENIED']],
  ])('fs: %s', (_label, fs, rules, expected) => {
    expect(codes(policy({ capabilities: { fs } }), { name: 'x', grant: { net: [], fs: rules } })).toEqual(expected);
  });

  it.each([
    [false, ['TOKEN'], ['POLICY_CAPABILITY_DENIED']],
    [false, [], []],
    [['GITHUB_TOKEN'], ['GITHUB_TOKEN'], []],
    [['GITHUB_TOKEN'], ['GITHUB_TOKEN', 'AWS_KEY'], ['POLICY_CAPABILITY_DENIED']],
  ])('secrets %j with declared %j', (secrets, declared, expected) => {
    expect(codes(policy({ capabilities: { secrets } }), { name: 'x', secrets: declared })).toEqual(expected);
  });
});

describe('several policies combine by intersection', () => {
  const system = { signers: [{ kind: 'key', keyId: KEY_A }], capabilities: { net: ['*.corp.example'] }, limits: { memoryMb: 64, cpuMs: 1000 } };
  it('an extra policy that allows more does not loosen the system one', () => {
    const p = policy(system, { signers: [{ kind: 'key', keyId: KEY_B }], capabilities: { net: ['example.org'] } });
    // Key B: the extra file allows it, the system one does not. Key A: the other way round. Neither passes both.
    expect(checkPackage(p, { name: 'x', signer: `key:${KEY_B}` }).map((r) => [r.code, r.source])).toEqual([['POLICY_SIGNER_NOT_ALLOWED', '/policy/0.json']]);
    expect(checkPackage(p, { name: 'x', signer: `key:${KEY_A}`, grant: { net: ['example.org'], fs: [] } }).map((r) => [r.code, r.source])).toEqual([
      ['POLICY_CAPABILITY_DENIED', '/policy/0.json'],
      ['POLICY_SIGNER_NOT_ALLOWED', '/policy/1.json'],
    ]);
  });
  it('an extra policy adds its own restrictions', () => {
    const p = policy(system, { blocked: { packages: ['x'] }, capabilities: { net: ['api.corp.example'] } });
    expect(codes(p, { name: 'x', signer: `key:${KEY_A}` })).toEqual(['POLICY_PACKAGE_BLOCKED']);
    expect(codes(p, { name: 'y', signer: `key:${KEY_A}`, grant: { net: ['db.corp.example'], fs: [] } })).toEqual(['POLICY_CAPABILITY_DENIED']);
    const refusal = checkPackage(p, { name: 'y', signer: `key:${KEY_A}`, grant: { net: ['db.corp.example'], fs: [] } })[0];
    expect(refusal?.source).toBe('/policy/1.json');
  });
  it('limits: the smallest maximum of any policy, and never above what the package had', () => {
    const p = policy(system, { limits: { memoryMb: 128, wallMs: 5000 } });
    expect(maximumLimits(p)).toEqual({ memoryMb: 64, cpuMs: 1000, wallMs: 5000 });
    const clamped = clampLimits(p, { ...DEFAULT_LIMITS, memoryMb: 256, cpuMs: 500 });
    expect(clamped).toEqual({ ...DEFAULT_LIMITS, memoryMb: 64, cpuMs: 500, wallMs: 5000 });
  });
  it('strict definitions: any policy that asks for it', () => {
    expect(strictDefinitions(policy(system))).toBe(false);
    expect(strictDefinitions(policy(system, { strictDefinitions: true }))).toBe(true);
    expect(strictDefinitions(policy({ strictDefinitions: false }))).toBe(false);
  });
});
