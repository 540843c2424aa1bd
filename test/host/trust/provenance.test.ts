import { describe, expect, it } from 'vitest';
import { findProvenancePublisher, findTrustedSigner, parsePublisher, parseTrustPolicy } from '../../../host/trust/policy.ts';
import type { TrustPolicy } from '../../../host/trust/policy.ts';
import { codeOf } from '../../helpers/codes.ts';

const GH = 'https://token.actions.githubusercontent.com';
const built = { issuer: GH, repository: 'github.com/acme/weather-tool', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v1.2.0' };

function policy(...publishers: Record<string, unknown>[]): TrustPolicy {
  return parseTrustPolicy({ publishers: publishers.map((p, i) => ({ name: `p${i}`, kind: 'provenance', issuer: GH, ...p })) });
}

const exact = policy({ repository: 'github.com/acme/weather-tool', workflow: '.github/workflows/release.yml', ref: 'refs/tags/*', scope: ['@acme/*'] });

describe('findProvenancePublisher', () => {
  it('trusts the repository, workflow and ref the user named, for a package in scope', () => {
    expect(findProvenancePublisher(exact, built, '@acme/weather-tool')).toMatchObject({ trusted: true, publisher: { name: 'p0' } });
  });

  describe('when the provenance does not match', () => {
    it.each([
      ['another repository', { repository: 'github.com/acme/other-tool' }, 'PROVENANCE_UNTRUSTED'],
      ['a repository whose name extends the trusted one', { repository: 'github.com/acme/weather-tool-evil' }, 'PROVENANCE_UNTRUSTED'],
      ['another owner with the same repository name', { repository: 'github.com/acme-evil/weather-tool' }, 'PROVENANCE_UNTRUSTED'],
      ['the same path on another host', { repository: 'gitlab.com/acme/weather-tool' }, 'PROVENANCE_UNTRUSTED'],
      ['a repository in another case', { repository: 'github.com/Acme/weather-tool' }, 'PROVENANCE_UNTRUSTED'],
      ['another OIDC issuer', { issuer: 'https://token.actions.evil.example' }, 'ISSUER_MISMATCH'],
      ['another workflow file', { workflow: '.github/workflows/ci.yml' }, 'PROVENANCE_WORKFLOW_MISMATCH'],
      ['a workflow in a sub-directory', { workflow: '.github/workflows/x/release.yml' }, 'PROVENANCE_WORKFLOW_MISMATCH'],
      ['a branch instead of a tag', { ref: 'refs/heads/main' }, 'PROVENANCE_REF_MISMATCH'],
      ['a tag with a slash (the glob stays in one segment)', { ref: 'refs/tags/release/v1' }, 'PROVENANCE_REF_MISMATCH'],
      ['a pull request merge ref', { ref: 'refs/pull/1/merge' }, 'PROVENANCE_REF_MISMATCH'],
    ])('refuses %s', (_what, change, code) => {
      expect(findProvenancePublisher(exact, { ...built, ...change }, '@acme/weather-tool')).toMatchObject({ trusted: false, code });
    });

    it('refuses a package outside the publisher\'s scope (SIGNER_OUT_OF_SCOPE)', () => {
      expect(findProvenancePublisher(exact, built, '@other/weather-tool')).toMatchObject({ trusted: false, code: 'SIGNER_OUT_OF_SCOPE' });
      expect(findProvenancePublisher(exact, built, '@acme-evil/weather-tool')).toMatchObject({ trusted: false, code: 'SIGNER_OUT_OF_SCOPE' });
    });

    it('trusts nothing with an empty policy, or with only key and identity publishers', () => {
      expect(findProvenancePublisher({ publishers: [] }, built, 'x')).toMatchObject({ code: 'PROVENANCE_UNTRUSTED' });
      const identity = parseTrustPolicy({ publishers: [{ name: 'ci', kind: 'identity', issuer: GH, identity: `https://${built.repository}/${built.workflow}@${built.ref}` }] });
      expect(findProvenancePublisher(identity, built, 'x')).toMatchObject({ code: 'PROVENANCE_UNTRUSTED' });
    });
  });

  describe('globs, only where the user wrote them', () => {
    it.each([
      [{ ref: 'refs/tags/v*' }, 'refs/tags/v1.2.0', true],
      [{ ref: 'refs/tags/v*' }, 'refs/tags/1.2.0', false],
      [{ ref: 'refs/tags/v1.*.0' }, 'refs/tags/v1.2.0', true],
      [{ ref: 'refs/tags/v1.*.0' }, 'refs/tags/v1.2.1', false],
      [{ ref: 'refs/*/main' }, 'refs/heads/main', true],
      [{ ref: 'refs/*/main' }, 'refs/heads/x/main', false],
      [{ ref: 'refs/heads/main' }, 'refs/heads/main', true],
      [{ ref: 'refs/heads/main' }, 'refs/heads/main2', false],
      [{ ref: 'refs/heads/ma.n' }, 'refs/heads/main', false],
    ])('%j against ref %s → %s', (rule, ref, trusted) => {
      expect(findProvenancePublisher(policy({ repository: built.repository, ...rule }), { ...built, ref }, 'x').trusted).toBe(trusted);
    });

    it.each([
      ['.github/workflows/*.yml', '.github/workflows/release.yml', true],
      ['.github/workflows/*.yml', '.github/workflows/a/b.yml', false],
      ['.github/workflows/release.y?l', '.github/workflows/release.yml', false],
      ['.github/workflows/rel*', '.github/workflows/release.yml', true],
    ])('workflow %s against %s → %s', (workflow, actual, trusted) => {
      expect(findProvenancePublisher(policy({ repository: built.repository, workflow }), { ...built, workflow: actual }, 'x').trusted).toBe(trusted);
    });

    it('trusts any workflow and any ref of the repository when the user named neither', () => {
      const any = policy({ repository: built.repository });
      expect(findProvenancePublisher(any, { ...built, workflow: '.github/workflows/anything.yml', ref: 'refs/heads/dev' }, 'x').trusted).toBe(true);
    });
  });

  it('picks the publisher that matches among several for the same repository', () => {
    const two = policy({ repository: built.repository, workflow: '.github/workflows/ci.yml' }, { repository: built.repository, workflow: built.workflow, ref: 'refs/tags/*' });
    expect(findProvenancePublisher(two, built, 'x')).toMatchObject({ trusted: true, publisher: { name: 'p1' } });
  });

  it('is what findTrustedSigner answers for a recorded provenance signer', () => {
    expect(findTrustedSigner(exact, { kind: 'provenance', ...built }, '@acme/x')).toMatchObject({ trusted: true });
    expect(findTrustedSigner(exact, { kind: 'provenance', ...built, ref: 'refs/heads/main' }, '@acme/x')).toMatchObject({ code: 'PROVENANCE_REF_MISMATCH' });
  });

  it('never lets a provenance publisher vouch for a key or an identity signer', () => {
    expect(findTrustedSigner(exact, { kind: 'identity', identity: `https://${built.repository}/${built.workflow}@${built.ref}`, issuer: GH }, '@acme/x')).toMatchObject({ code: 'UNTRUSTED_SIGNER' });
  });
});

describe('a provenance publisher entry', () => {
  it('normalises the repository (scheme, trailing slash, .git, host case)', () => {
    expect(parsePublisher({ name: 'x', kind: 'provenance', issuer: GH, repository: 'https://GitHub.com/acme/weather-tool.git/' })).toMatchObject({ repository: 'github.com/acme/weather-tool' });
  });

  it.each([
    [{ repository: 'github.com/acme/*' }],
    [{ repository: 'acme/weather-tool' }],
    [{ repository: 'http://github.com/acme/weather-tool' }],
    [{ repository: 'github.com/acme/../evil' }],
    [{ repository: 'github.com/acme/x?y' }],
    [{ repository: 'github.com/acme/weather tool' }],
    [{ repository: 'github.com/acme/x', ref: 'v1.2.0' }],
    [{ repository: 'github.com/acme/x', ref: 'refs/tags/../heads/x' }],
    [{ repository: 'github.com/acme/x', workflow: '/etc/release.yml' }],
    [{ repository: 'github.com/acme/x', workflow: '.github/workflows/release.yml@refs/heads/main' }],
    [{ repository: 'github.com/acme/x', issuer: 'http://token.actions.githubusercontent.com' }],
    [{ repository: 'github.com/acme/x', issuer: '' }],
    [{ repository: 'github.com/acme/x', workflow: 'a\u0000b' }],
  ])('refuses %j (TRUST_INVALID)', (fields) => {
    expect(codeOf(() => parsePublisher({ name: 'x', kind: 'provenance', issuer: GH, ...fields }))).toBe('TRUST_INVALID');
  });
});
