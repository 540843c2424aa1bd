import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTrustMaterial } from '../../../host/signing/trust-root.ts';
import { verifyNpmAttestations } from '../../../host/provenance/verify.ts';
import { codeOf } from '../../helpers/codes.ts';

// Real npm attestations of public packages, signed on the public-good Sigstore instance (see
// sources.json), verified offline against the root shipped in keys/ and the registry key: no network.
const dir = join(import.meta.dirname, '..', '..', 'fixtures', 'provenance');
const read = (file: string): unknown => JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown;
const sources = read('sources.json') as {
  packages: { name: string; version: string; integrity: string; attestations: string; repository: string; workflow: string; ref: string; commit: string }[];
};
const registryKeys = read('registry-keys.json') as { keys: Record<string, unknown>[] };
const material = loadTrustMaterial();

interface Doc {
  attestations: { predicateType: string; bundle: { dsseEnvelope: { payload: string } } }[];
}

describe.each(sources.packages)('the public-good attestations of $name@$version', (pkg) => {
  const doc = read(pkg.attestations) as Doc;
  const input = { name: pkg.name, version: pkg.version, integrity: pkg.integrity, attestations: doc, registryKeys, trustMaterial: material };

  it('verify offline, and prove the repository, workflow, ref and commit that built it', () => {
    const p = verifyNpmAttestations(input);
    expect(p).toMatchObject({
      repository: pkg.repository,
      workflow: pkg.workflow,
      ref: pkg.ref,
      commit: pkg.commit,
      issuer: 'https://token.actions.githubusercontent.com',
      builder: `https://${pkg.repository}/${pkg.workflow}@${pkg.ref}`,
      publishKeyId: 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA',
    });
    expect(p.transparencyLog.logIndex).toMatch(/^\d+$/);
  });

  /** The document with the subject digest of the statements of these types changed by one byte. */
  function withSubjectByteChanged(types: readonly string[]): { edited: Doc; sha512: string } {
    const edited = structuredClone(doc);
    let sha512 = '';
    for (const entry of edited.attestations.filter((a) => types.includes(a.predicateType))) {
      const statement = JSON.parse(Buffer.from(entry.bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as { subject: { digest: { sha512: string } }[] };
      const subject = statement.subject[0];
      if (!subject) throw new Error('fixture');
      const hex = subject.digest.sha512;
      sha512 = subject.digest.sha512 = `${hex.slice(0, -2)}${hex.endsWith('00') ? '01' : '00'}`;
      entry.bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    }
    return { edited, sha512 };
  }

  it.each(['https://slsa.dev/provenance/v0.2', 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1'])(
    'refuse a one-byte change to the subject digest of the %s statement (PROVENANCE_SUBJECT_MISMATCH)',
    (predicateType) => {
      const { edited } = withSubjectByteChanged([predicateType]);
      expect(codeOf(() => verifyNpmAttestations({ ...input, attestations: edited }))).toBe('PROVENANCE_SUBJECT_MISMATCH');
    },
  );

  it('refuse both subject digests changed by one byte to match a tarball they were not signed for (PROVENANCE_INVALID: the signatures cover them)', () => {
    const { edited, sha512 } = withSubjectByteChanged(doc.attestations.map((a) => a.predicateType));
    const integrity = `sha512-${Buffer.from(sha512, 'hex').toString('base64')}`;
    expect(codeOf(() => verifyNpmAttestations({ ...input, attestations: edited, integrity }))).toBe('PROVENANCE_INVALID');
  });

  it('refuse a tarball one byte off the attested digest (PROVENANCE_SUBJECT_MISMATCH)', () => {
    const digest = Buffer.from(pkg.integrity.slice('sha512-'.length), 'base64');
    digest[digest.length - 1] = (digest[digest.length - 1] ?? 0) ^ 1;
    expect(codeOf(() => verifyNpmAttestations({ ...input, integrity: `sha512-${digest.toString('base64')}` }))).toBe('PROVENANCE_SUBJECT_MISMATCH');
  });

  it('are refused for another version of the same package (PROVENANCE_SUBJECT_MISMATCH)', () => {
    expect(codeOf(() => verifyNpmAttestations({ ...input, version: '9.9.9' }))).toBe('PROVENANCE_SUBJECT_MISMATCH');
  });

  it('keep verifying after the registry key expired, since it was valid when the attestation was logged (as npm)', () => {
    const rotated = { keys: registryKeys.keys.map((k) => ({ ...k, expires: '2025-01-29T00:00:00.000Z' })) };
    expect(verifyNpmAttestations({ ...input, registryKeys: rotated }).repository).toBe(pkg.repository);
  });

  it('are refused when the registry key had expired before they were logged (PROVENANCE_KEY_EXPIRED)', () => {
    const early = { keys: registryKeys.keys.map((k) => ({ ...k, expires: '2021-01-11T15:45:42.144Z' })) };
    expect(codeOf(() => verifyNpmAttestations({ ...input, registryKeys: early }))).toBe('PROVENANCE_KEY_EXPIRED');
  });
});
