/**
 * A precise reason when a keyless signer is not trusted (moved out of ./signer.ts so that serve's
 * start-up, which only parses recorded signers, does not load the Sigstore verifier).
 */
import type { TrustMaterial } from '@sigstore/verify';
import { HostError, isHostError } from '../errors.ts';
import { inspectBundle, verifyKeylessSignature } from '../signing/verify.ts';
import type { TrustPolicy } from '../trust/policy.ts';

/**
 * Refines an UNTRUSTED_SIGNER refusal of a keyless bundle: IDENTITY_MISMATCH when a trusted publisher has
 * this issuer but another identity (`evil-user@example.com` is not `user@example.com`), ISSUER_MISMATCH
 * when one has this identity from another issuer. The refusal stands either way; only its code and
 * message become more precise. Other errors are returned unchanged.
 */
export function refineUntrusted(error: unknown, tarball: Uint8Array, bundleJson: unknown, policy: TrustPolicy, material: TrustMaterial): unknown {
  if (!isHostError(error) || error.code !== 'UNTRUSTED_SIGNER') return error;
  let actual: { identity: string; issuer: string };
  try {
    const inspected = inspectBundle(tarball, bundleJson, { requirePackage: true });
    if (!inspected.keyless) return error;
    actual = verifyKeylessSignature(inspected, material);
  } catch {
    return error;
  }
  const identities = policy.publishers.filter((p) => p.kind === 'identity');
  if (identities.some((p) => p.identity === actual.identity && p.issuer !== actual.issuer)) {
    return new HostError('ISSUER_MISMATCH', `${actual.identity} is trusted only from another OIDC issuer, not ${actual.issuer}`);
  }
  if (identities.some((p) => p.issuer === actual.issuer && p.identity !== actual.identity)) {
    return new HostError('IDENTITY_MISMATCH', `the certificate identity ${actual.identity} (issuer ${actual.issuer}) is not exactly a trusted identity`);
  }
  return error;
}
