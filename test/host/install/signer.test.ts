import { describe, expect, it } from 'vitest';
import { describeSignerId, parseSignerId, signerId } from '../../../host/install/signer.ts';
import type { RecordedSigner } from '../../../host/install/signer.ts';
import { sameProvenanceSource } from '../../../host/provenance/facts.ts';

const GH = 'https://token.actions.githubusercontent.com';
const provenance: RecordedSigner = { kind: 'provenance', issuer: GH, repository: 'github.com/acme/weather-tool', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v1.2.0' };

describe('signer ids', () => {
  it('records a provenance signer as provenance:[issuer, repository, workflow, ref]', () => {
    expect(signerId(provenance)).toBe('provenance:["https://token.actions.githubusercontent.com","github.com/acme/weather-tool",".github/workflows/release.yml","refs/tags/v1.2.0"]');
  });

  it.each<RecordedSigner>([
    provenance,
    { kind: 'key', keyId: 'a'.repeat(64) },
    { kind: 'identity', issuer: GH, identity: 'https://github.com/acme/x/.github/workflows/r.yml@refs/heads/main' },
    // A value holding the separators of the encoding stays one field.
    { kind: 'provenance', issuer: GH, repository: 'github.com/a/b","c', workflow: 'w', ref: 'r' },
  ])('parses back what it records: %j', (signer) => {
    expect(parseSignerId(signerId(signer))).toEqual(signer);
  });

  it.each([
    'provenance:',
    'provenance:[]',
    'provenance:["a","b","c"]',
    'provenance:["a","b","c","d","e"]',
    'provenance:["a","b","","d"]',
    'provenance:["a","b","c",4]',
    'provenance:not json',
    'keyless:["a","b","c","d"]',
  ])('refuses %s', (id) => {
    expect(parseSignerId(id)).toBeUndefined();
  });

  it('describes a provenance signer by repository, workflow, ref and issuer', () => {
    expect(describeSignerId(signerId(provenance))).toBe('github.com/acme/weather-tool .github/workflows/release.yml at refs/tags/v1.2.0 (npm provenance, issuer https://token.actions.githubusercontent.com)');
    expect(describeSignerId(`key:${'b'.repeat(64)}`)).toBe(`key ${'b'.repeat(64)}`);
  });
});

describe('sameProvenanceSource (no downgrade of trust)', () => {
  const a = { issuer: GH, repository: 'github.com/acme/weather-tool', workflow: '.github/workflows/release.yml' };
  it('holds for a new release of the same repository and workflow, whatever the ref', () => {
    expect(sameProvenanceSource({ ...a, ref: 'refs/tags/v1' } as typeof a, { ...a, ref: 'refs/tags/v2' } as typeof a)).toBe(true);
  });

  it.each([
    ['repository', { repository: 'github.com/acme/weather-tool-fork' }],
    ['workflow', { workflow: '.github/workflows/other.yml' }],
    ['issuer', { issuer: 'https://gitlab.com' }],
  ])('fails for another %s', (_what, change) => {
    expect(sameProvenanceSource(a, { ...a, ...change })).toBe(false);
  });
});
