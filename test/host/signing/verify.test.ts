import { createHash, createPublicKey, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON, bundleToJSON, toMessageSignatureBundle } from '@sigstore/bundle';
import type { SerializedBundle } from '@sigstore/bundle';
import { FulcioSigner, MessageSignatureBundleBuilder, RekorWitness } from '@sigstore/sign';
import { Verifier, toSignedEntity } from '@sigstore/verify';
import type { TrustMaterial } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packToBuffer } from '../../../host/pack/pack.ts';
import { keyIdOf, publicKeyPem } from '../../../host/signing/keys.ts';
import { signKeyed, signKeyless, signStatementKeyed } from '../../../host/signing/sign.ts';
import type { KeylessOptions } from '../../../host/signing/sign.ts';
import { packageStatement, statementPayload } from '../../../host/signing/statement.ts';
import { loadTrustMaterial } from '../../../host/signing/trust-root.ts';
import { verifyArtifact } from '../../../host/signing/verify.ts';
import type { SignerPolicy } from '../../../host/signing/verify.ts';
import { codeOf } from '../../helpers/codes.ts';
import { TEST_ISSUER, startSigstoreStack, testIdentityToken } from '../../helpers/sigstore-stack.ts';
import type { SigstoreStack } from '../../helpers/sigstore-stack.ts';
import { tempDir, writeToolPackage } from '../../helpers/tool-package.ts';

const USER = 'user@example.com';
const IDENTITY: SignerPolicy = { kind: 'identity', identity: USER, issuer: TEST_ISSUER };

let stack: SigstoreStack;
let material: TrustMaterial;
let tarball: Buffer;
let tampered: Buffer;
let other: Buffer;
let integrity: string;
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const KEY: SignerPolicy = { kind: 'key', publicKeyPem: publicKeyPem(key.publicKey), name: 'acme' };

async function packed(name: string, version: string, code = 'export const echo = (a) => a;\n'): Promise<Buffer> {
  const dir = writeToolPackage(tempDir(), name, version);
  writeFileSync(join(dir, 'dist', 'index.js'), code);
  return (await packToBuffer(dir)).data;
}

function keyless(data: Buffer, options: Partial<KeylessOptions> = {}, sub = USER, iss = TEST_ISSUER): Promise<SerializedBundle> {
  return signKeyless(data, { identityToken: testIdentityToken(sub, iss), fulcioURL: stack.url, rekorURL: stack.url, ...options });
}

beforeAll(async () => {
  stack = await startSigstoreStack();
  material = loadTrustMaterial(stack.trustedRootFile);
  tarball = await packed('@acme/echo', '1.0.0');
  tampered = await packed('@acme/echo', '1.0.0', 'export const echo = () => fetch("https://evil.example");\n');
  other = await packed('@acme/other', '1.0.0');
  integrity = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
});

afterAll(async () => {
  await stack?.close();
});

describe('verifyArtifact', () => {
  describe('with a keyed bundle', () => {
    it('returns the signer, the digest and the package it binds', () => {
      const r = verifyArtifact(tarball, signKeyed(tarball, key.privateKey), KEY, { trustMaterial: material, requirePackage: true });
      expect(r.signer).toEqual({ kind: 'key', keyId: keyIdOf(key.publicKey), name: 'acme' });
      expect(r.package).toEqual({ name: '@acme/echo', version: '1.0.0', integrity });
      expect(r.digest.sha512).toBe(createHash('sha512').update(tarball).digest('hex'));
      expect(r.bundle).toMatchObject({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', content: 'dsseEnvelope', tlogEntries: 0 });
    });

    it('refuses a tampered tarball of the same name and version (INTEGRITY_MISMATCH)', () => {
      expect(codeOf(() => verifyArtifact(tampered, signKeyed(tarball, key.privateKey), KEY, { trustMaterial: material }))).toBe('INTEGRITY_MISMATCH');
    });

    it('refuses a tarball with a flipped byte (INTEGRITY_MISMATCH)', () => {
      const flipped = Buffer.from(tarball);
      flipped[flipped.length - 10] = (flipped[flipped.length - 10] as number) ^ 0xff;
      expect(codeOf(() => verifyArtifact(flipped, signKeyed(tarball, key.privateKey), KEY, { trustMaterial: material }))).toBe('INTEGRITY_MISMATCH');
    });

    it('refuses the bundle of another package (SUBJECT_MISMATCH)', () => {
      expect(codeOf(() => verifyArtifact(tarball, signKeyed(other, key.privateKey), KEY, { trustMaterial: material }))).toBe('SUBJECT_MISMATCH');
    });

    it.each([
      ['another name', { name: '@acme/evil', version: '1.0.0' }],
      ['another version', { name: '@acme/echo', version: '9.9.9' }],
    ])('refuses a validly signed statement for %s with the right digest (SUBJECT_MISMATCH)', (_what, claim) => {
      const statement = packageStatement({ ...claim, integrity }, tarball);
      expect(statement.subject[0]?.digest.sha512).toBe(createHash('sha512').update(tarball).digest('hex'));
      const bundle = signStatementKeyed(statementPayload(statement), key.privateKey);
      expect(codeOf(() => verifyArtifact(tarball, bundle, KEY, { trustMaterial: material }))).toBe('SUBJECT_MISMATCH');
    });

    it('refuses a statement whose SRI integrity disagrees with its sha512 subject (SUBJECT_MISMATCH)', () => {
      const statement = { ...packageStatement({ name: '@acme/echo', version: '1.0.0', integrity }, tarball), predicate: { name: '@acme/echo', version: '1.0.0', integrity: `sha512-${createHash('sha512').update(other).digest('base64')}` } };
      const bundle = signStatementKeyed(statementPayload(statement), key.privateKey);
      expect(codeOf(() => verifyArtifact(tarball, bundle, KEY, { trustMaterial: material }))).toBe('SUBJECT_MISMATCH');
    });

    it('refuses a signature by another key (UNTRUSTED_SIGNER)', () => {
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      expect(codeOf(() => verifyArtifact(tarball, signKeyed(tarball, other.privateKey), KEY, { trustMaterial: material }))).toBe('UNTRUSTED_SIGNER');
    });

    it('refuses a corrupted signature (SIGNATURE_INVALID)', () => {
      const bundle = signKeyed(tarball, key.privateKey);
      const sig = Buffer.from(bundle.dsseEnvelope?.signatures[0]?.sig ?? '', 'base64');
      sig[sig.length - 1] = (sig[sig.length - 1] as number) ^ 1;
      const bad = structuredClone(bundle);
      (bad.dsseEnvelope?.signatures[0] as { sig: string }).sig = sig.toString('base64');
      expect(codeOf(() => verifyArtifact(tarball, bad, KEY, { trustMaterial: material }))).toBe('SIGNATURE_INVALID');
    });

    it('refuses a keyed bundle where an identity is required (UNTRUSTED_SIGNER)', () => {
      expect(codeOf(() => verifyArtifact(tarball, signKeyed(tarball, key.privateKey), IDENTITY, { trustMaterial: material }))).toBe('UNTRUSTED_SIGNER');
    });

    it('refuses something that is not a bundle (BUNDLE_INVALID)', () => {
      expect(codeOf(() => verifyArtifact(tarball, { mediaType: 'x' }, KEY, { trustMaterial: material }))).toBe('BUNDLE_INVALID');
      expect(codeOf(() => verifyArtifact(tarball, 'nope', KEY, { trustMaterial: material }))).toBe('BUNDLE_INVALID');
    });
  });

  describe('with a keyless bundle from the local Sigstore stack', () => {
    it.each([
      ['Rekor v1', false, 1 as const],
      ['Rekor v1 and a TSA', true, 1 as const],
      ['Rekor v2 and a TSA', true, 2 as const],
    ])('verifies a round trip through %s', async (_what, tsa, rekorVersion) => {
      const bundle = await keyless(tarball, { rekorVersion, ...(tsa ? { tsaURL: stack.url } : {}) });
      const r = verifyArtifact(tarball, bundle, IDENTITY, { trustMaterial: material, requirePackage: true });
      expect(r.signer).toEqual({ kind: 'identity', identity: USER, issuer: TEST_ISSUER });
      expect(r.package).toEqual({ name: '@acme/echo', version: '1.0.0', integrity });
      expect(r.bundle.tlogEntries).toBe(1);
      expect(r.bundle.rfc3161Timestamps).toBe(tsa ? 1 : 0);
    });

    it('refuses another identity (IDENTITY_MISMATCH)', async () => {
      const bundle = await keyless(tarball, {}, 'mallory@example.com');
      expect(codeOf(() => verifyArtifact(tarball, bundle, IDENTITY, { trustMaterial: material }))).toBe('IDENTITY_MISMATCH');
    });

    it('refuses the right identity from another issuer (ISSUER_MISMATCH)', async () => {
      const bundle = await keyless(tarball, {}, USER, 'https://accounts.evil.example');
      expect(codeOf(() => verifyArtifact(tarball, bundle, IDENTITY, { trustMaterial: material }))).toBe('ISSUER_MISMATCH');
    });

    it('refuses evil-user@example.com for user@example.com, which @sigstore/verify alone accepts', async () => {
      const bundle = await keyless(tarball, {}, `evil-${USER}`);
      // The library trap: its identity policy is an unanchored regular expression.
      const signer = new Verifier(material).verify(toSignedEntity(bundleFromJSON(bundle), tarball), { subjectAlternativeName: USER, extensions: { issuer: TEST_ISSUER } });
      expect(signer.identity?.subjectAlternativeName).toBe(`evil-${USER}`);
      expect(codeOf(() => verifyArtifact(tarball, bundle, IDENTITY, { trustMaterial: material }))).toBe('IDENTITY_MISMATCH');
    });

    it('anchors an identity regular expression at both ends', async () => {
      const evil = await keyless(tarball, {}, `evil-${USER}`);
      const good = await keyless(tarball);
      const pattern: SignerPolicy = { kind: 'identity-regexp', pattern: 'user@example\\.com', issuer: TEST_ISSUER };
      expect(codeOf(() => verifyArtifact(tarball, evil, pattern, { trustMaterial: material }))).toBe('IDENTITY_MISMATCH');
      expect(verifyArtifact(tarball, good, pattern, { trustMaterial: material }).signer).toMatchObject({ identity: USER });
      const alternation: SignerPolicy = { kind: 'identity-regexp', pattern: 'admin@example\\.com|user@example\\.com', issuer: TEST_ISSUER };
      expect(verifyArtifact(tarball, good, alternation, { trustMaterial: material }).signer).toMatchObject({ identity: USER });
      expect(codeOf(() => verifyArtifact(tarball, evil, alternation, { trustMaterial: material }))).toBe('IDENTITY_MISMATCH');
    });

    it('refuses a keyless bundle without a transparency-log entry (TLOG_MISSING)', async () => {
      const bundle = structuredClone(await keyless(tarball, { tsaURL: stack.url }));
      bundle.verificationMaterial.tlogEntries = [];
      expect(codeOf(() => verifyArtifact(tarball, bundle, IDENTITY, { trustMaterial: material }))).toBe('TLOG_MISSING');
    });

    it('refuses a keyless bundle with no verifiable time (Rekor v2 without a TSA)', async () => {
      const bundle = await keyless(tarball, { rekorVersion: 2 });
      expect(codeOf(() => verifyArtifact(tarball, bundle, IDENTITY, { trustMaterial: material }))).toBe('SIGNATURE_INVALID');
    });

    it('refuses a certificate that does not chain to the trusted root (SIGNATURE_INVALID)', async () => {
      const bundle = await keyless(tarball);
      expect(codeOf(() => verifyArtifact(tarball, bundle, IDENTITY, { trustMaterial: loadTrustMaterial() }))).toBe('SIGNATURE_INVALID');
    });

    it('refuses a keyless bundle where a key is required (UNTRUSTED_SIGNER)', async () => {
      expect(codeOf(() => verifyArtifact(tarball, {}, KEY, { trustMaterial: material }))).toBe('BUNDLE_INVALID');
      const bundle = await keyless(tarball);
      expect(codeOf(() => verifyArtifact(tarball, bundle, KEY, { trustMaterial: material }))).toBe('UNTRUSTED_SIGNER');
    });

    it('refuses a tampered tarball and the bundle of another package', async () => {
      const bundle = await keyless(tarball);
      expect(codeOf(() => verifyArtifact(tampered, bundle, IDENTITY, { trustMaterial: material }))).toBe('INTEGRITY_MISMATCH');
      expect(codeOf(() => verifyArtifact(other, bundle, IDENTITY, { trustMaterial: material }))).toBe('SUBJECT_MISMATCH');
    });
  });

  describe('with any file and a message-signature bundle (like cosign verify-blob)', () => {
    const file = Buffer.from('any artifact at all\n');

    function keyedMessageBundle(data: Buffer, signer: KeyObject): SerializedBundle {
      return bundleToJSON(
        toMessageSignatureBundle({
          digest: createHash('sha256').update(data).digest(),
          signature: cryptoSign('sha256', data, signer),
          keyHint: keyIdOf(createPublicKey(signer)),
        }),
      );
    }

    it('verifies a keyed message signature and reports no package', () => {
      const r = verifyArtifact(file, keyedMessageBundle(file, key.privateKey), KEY, { trustMaterial: material });
      expect(r.package).toBeUndefined();
      expect(r.bundle.content).toBe('messageSignature');
      expect(codeOf(() => verifyArtifact(Buffer.from('another file\n'), keyedMessageBundle(file, key.privateKey), KEY, { trustMaterial: material }))).toBe('INTEGRITY_MISMATCH');
    });

    it('verifies a keyless v0.2 message-signature bundle (hashedrekord entry)', async () => {
      const builder = new MessageSignatureBundleBuilder({
        signer: new FulcioSigner({ identityProvider: { getToken: () => Promise.resolve(testIdentityToken(USER)) }, fulcioBaseURL: stack.url }),
        witnesses: [new RekorWitness({ rekorBaseURL: stack.url })],
      });
      const bundle = bundleToJSON(await builder.create({ data: file }));
      const r = verifyArtifact(file, bundle, IDENTITY, { trustMaterial: material });
      expect(r.signer).toEqual({ kind: 'identity', identity: USER, issuer: TEST_ISSUER });
      expect(r.bundle).toMatchObject({ mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.2', content: 'messageSignature' });
    });

    it('refuses a message signature where a package statement is required', () => {
      expect(codeOf(() => verifyArtifact(tarball, keyedMessageBundle(tarball, key.privateKey), KEY, { trustMaterial: material, requirePackage: true }))).toBe('SUBJECT_MISMATCH');
    });
  });
});
