import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrustMaterial } from '@sigstore/verify';
import { packToBuffer } from '../../../host/pack/pack.ts';
import { keyIdOf, publicKeyPem } from '../../../host/signing/keys.ts';
import { signKeyed, signKeyless } from '../../../host/signing/sign.ts';
import { loadTrustMaterial } from '../../../host/signing/trust-root.ts';
import { parsePublisher } from '../../../host/trust/policy.ts';
import type { TrustPolicy } from '../../../host/trust/policy.ts';
import { verifyTrustedPackage } from '../../../host/trust/verify-trusted.ts';
import { codeOf } from '../../helpers/codes.ts';
import { TEST_ISSUER, startSigstoreStack, testIdentityToken } from '../../helpers/sigstore-stack.ts';
import type { SigstoreStack } from '../../helpers/sigstore-stack.ts';
import { tempDir, writeToolPackage } from '../../helpers/tool-package.ts';

const acme = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let stack: SigstoreStack;
let material: TrustMaterial;
let echo: Buffer;
let outside: Buffer;

const policy: TrustPolicy = {
  publishers: [
    parsePublisher({ name: 'acme', kind: 'key', publicKeyPem: publicKeyPem(acme.publicKey), scope: ['@acme/*'] }),
    parsePublisher({ name: 'user', kind: 'identity', identity: 'user@example.com', issuer: TEST_ISSUER, scope: ['@acme/echo'] }),
  ],
};

beforeAll(async () => {
  stack = await startSigstoreStack();
  material = loadTrustMaterial(stack.trustedRootFile);
  echo = (await packToBuffer(writeToolPackage(tempDir(), '@acme/echo', '1.0.0'))).data;
  outside = (await packToBuffer(writeToolPackage(tempDir(), '@evil/echo', '1.0.0'))).data;
});

afterAll(async () => {
  await stack?.close();
});

const keyless = (data: Buffer, sub: string): Promise<unknown> =>
  signKeyless(data, { identityToken: testIdentityToken(sub), fulcioURL: stack.url, rekorURL: stack.url });

describe('verifyTrustedPackage', () => {
  it('accepts a package signed by a trusted key in its scope, naming the publisher', () => {
    const r = verifyTrustedPackage(echo, signKeyed(echo, acme.privateKey), policy, { trustMaterial: material });
    expect(r.publisher.name).toBe('acme');
    expect(r.signer).toEqual({ kind: 'key', keyId: keyIdOf(acme.publicKey), name: 'acme' });
    expect(r.package).toMatchObject({ name: '@acme/echo', version: '1.0.0' });
  });

  it('accepts a package signed keylessly by a trusted identity', async () => {
    const r = verifyTrustedPackage(echo, await keyless(echo, 'user@example.com'), policy, { trustMaterial: material });
    expect(r.publisher.name).toBe('user');
  });

  it('refuses a trusted key signing outside its scope (SIGNER_OUT_OF_SCOPE)', () => {
    expect(codeOf(() => verifyTrustedPackage(outside, signKeyed(outside, acme.privateKey), policy, { trustMaterial: material }))).toBe('SIGNER_OUT_OF_SCOPE');
  });

  it('refuses a key that is not trusted (UNTRUSTED_SIGNER)', () => {
    expect(codeOf(() => verifyTrustedPackage(echo, signKeyed(echo, stranger.privateKey), policy, { trustMaterial: material }))).toBe('UNTRUSTED_SIGNER');
  });

  it('refuses a bundle that names the trusted key but was signed by another (UNTRUSTED_SIGNER or SIGNATURE_INVALID, never accepted)', () => {
    const forged = structuredClone(signKeyed(echo, stranger.privateKey)) as { verificationMaterial: { publicKey: { hint: string } } };
    forged.verificationMaterial.publicKey.hint = keyIdOf(acme.publicKey);
    expect(codeOf(() => verifyTrustedPackage(echo, forged, policy, { trustMaterial: material }))).toBe('SIGNATURE_INVALID');
  });

  it('refuses evil-user@example.com when user@example.com is trusted (UNTRUSTED_SIGNER)', async () => {
    expect(codeOf(() => verifyTrustedPackage(echo, undefined, policy, { trustMaterial: material }))).toBe('BUNDLE_INVALID');
    const bundle = await keyless(echo, 'evil-user@example.com');
    expect(codeOf(() => verifyTrustedPackage(echo, bundle, policy, { trustMaterial: material }))).toBe('UNTRUSTED_SIGNER');
  });

  it('refuses with an empty policy', () => {
    expect(codeOf(() => verifyTrustedPackage(echo, signKeyed(echo, acme.privateKey), { publishers: [] }, { trustMaterial: material }))).toBe('UNTRUSTED_SIGNER');
  });
});
