/**
 * Keyless verification requires the leaf certificate's code-signing extended key usage
 * (id-kp-codeSigning, 1.3.6.1.5.5.7.3.3), which Fulcio always sets (issue 8, item 24): a certificate
 * the trusted CA issued for another purpose (here TLS server authentication) does not sign packages.
 *
 * The certificate without the EKU is minted by the local Sigstore stack's real CA (@sigstore/mock),
 * with its EKU extension swapped for serverAuth while that one certificate is issued: everything else
 * (chain, SCT, Rekor entry, timestamps) is valid, so only the EKU check can refuse it.
 */
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packToBuffer } from '../../../host/pack/pack.ts';
import { signKeyless } from '../../../host/signing/sign.ts';
import { loadTrustMaterial } from '../../../host/signing/trust-root.ts';
import { verifyArtifact } from '../../../host/signing/verify.ts';
import type { SignerPolicy } from '../../../host/signing/verify.ts';
import { codeOf } from '../../helpers/codes.ts';
import { TEST_ISSUER, startSigstoreStack, testIdentityToken } from '../../helpers/sigstore-stack.ts';
import type { SigstoreStack } from '../../helpers/sigstore-stack.ts';
import { tempDir, writeToolPackage } from '../../helpers/tool-package.ts';

const USER = 'user@example.com';
const POLICY: SignerPolicy = { kind: 'identity', identity: USER, issuer: TEST_ISSUER };
const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

// The @peculiar/x509 module the mock CA builds its certificates with.
const fromMock = createRequire(createRequire(import.meta.url).resolve('@sigstore/mock'));
fromMock('reflect-metadata');
const x509 = fromMock('@peculiar/x509') as { ExtendedKeyUsageExtension: new (usages: string[], critical?: boolean) => object };

/** Signs keylessly while the CA issues its leaf with `usages` as the extended key usage. */
async function signWithEku(stack: SigstoreStack, tarball: Buffer, usages: string[]): Promise<unknown> {
  const Original = x509.ExtendedKeyUsageExtension;
  x509.ExtendedKeyUsageExtension = class extends Original {
    constructor() {
      super(usages);
    }
  };
  try {
    return await signKeyless(tarball, { identityToken: testIdentityToken(USER), fulcioURL: stack.url, rekorURL: stack.url });
  } finally {
    x509.ExtendedKeyUsageExtension = Original;
  }
}

function leafEku(bundle: unknown): string[] | undefined {
  const vm = (bundle as { verificationMaterial: { certificate?: { rawBytes: string }; x509CertificateChain?: { certificates: { rawBytes: string }[] } } }).verificationMaterial;
  const raw = vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates[0]?.rawBytes ?? '';
  return new X509Certificate(Buffer.from(raw, 'base64')).keyUsage;
}

let stack: SigstoreStack;
let tarball: Buffer;

beforeAll(async () => {
  stack = await startSigstoreStack();
  tarball = (await packToBuffer(writeToolPackage(tempDir(), '@acme/echo', '1.0.0'))).data;
});

afterAll(async () => {
  await stack?.close();
});

describe('keyless verification and the code-signing extended key usage', () => {
  it('accepts a leaf certificate with the code-signing EKU (as Fulcio issues it)', async () => {
    const bundle = await signWithEku(stack, tarball, [CODE_SIGNING]);
    expect(leafEku(bundle)).toEqual([CODE_SIGNING]);
    const r = verifyArtifact(tarball, bundle, POLICY, { trustMaterial: loadTrustMaterial(stack.trustedRootFile) });
    expect(r.signer).toEqual({ kind: 'identity', identity: USER, issuer: TEST_ISSUER });
  });

  it('refuses a leaf certificate of the trusted CA without the code-signing EKU (SIGNATURE_INVALID)', async () => {
    const bundle = await signWithEku(stack, tarball, [SERVER_AUTH]);
    expect(leafEku(bundle)).toEqual([SERVER_AUTH]);
    const material = loadTrustMaterial(stack.trustedRootFile);
    expect(codeOf(() => verifyArtifact(tarball, bundle, POLICY, { trustMaterial: material }))).toBe('SIGNATURE_INVALID');
    expect(() => verifyArtifact(tarball, bundle, POLICY, { trustMaterial: material })).toThrow(/code-signing/);
  });
});
