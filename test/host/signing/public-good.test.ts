import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity } from '@sigstore/verify';
import { describe, expect, it } from 'vitest';
import { loadTrustMaterial } from '../../../host/signing/trust-root.ts';
import { verifyArtifact } from '../../../host/signing/verify.ts';
import { codeOf } from '../../helpers/codes.ts';

// Real bundles of the public-good instance (see _source in the fixture), verified offline against the
// trusted root shipped in keys/: no network, no TUF refresh.
const fixture = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'public-good-bundles.json'), 'utf8')) as {
  artifact: string;
  identity: string;
  issuer: string;
  publicKey: string;
  keyless: Record<string, unknown>;
  keyed: Record<string, unknown>;
};
const artifact = Buffer.from(fixture.artifact);

describe('public-good bundles, offline against keys/trusted_root.public-good.json', () => {
  it.each(Object.entries(fixture.keyless))('verifies a keyless %s bundle', (_what, bundle) => {
    const r = verifyArtifact(artifact, bundle, { kind: 'identity', identity: fixture.identity, issuer: fixture.issuer });
    expect(r.signer).toEqual({ kind: 'identity', identity: fixture.identity, issuer: fixture.issuer });
    expect(r.package).toBeUndefined();
  });

  it.each(Object.entries(fixture.keyed))('verifies a keyed %s bundle (its Rekor entry against the public-good log)', (_what, bundle) => {
    const r = verifyArtifact(artifact, bundle, { kind: 'key', publicKeyPem: fixture.publicKey });
    expect(r.signer.kind).toBe('key');
    expect(r.bundle.tlogEntries).toBe(1);
  });

  it.each(Object.entries(fixture.keyless))('refuses a suffix of the identity on a %s bundle, which @sigstore/verify alone accepts', (_what, bundle) => {
    const suffix = fixture.identity.slice(1); // "rian@dehamer.com"
    expect(() => new Verifier(loadTrustMaterial()).verify(toSignedEntity(bundleFromJSON(bundle), artifact), { subjectAlternativeName: suffix })).not.toThrow();
    expect(codeOf(() => verifyArtifact(artifact, bundle, { kind: 'identity', identity: suffix, issuer: fixture.issuer }))).toBe('IDENTITY_MISMATCH');
  });

  it.each(Object.entries(fixture.keyless))('refuses another artifact with a %s bundle', (_what, bundle) => {
    expect(codeOf(() => verifyArtifact(Buffer.from('hello, world?'), bundle, { kind: 'identity', identity: fixture.identity, issuer: fixture.issuer }))).toBe('INTEGRITY_MISMATCH');
  });
});
