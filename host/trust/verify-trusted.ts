/**
 * Install-time verification of a package tarball against the home's trust policy: the library the
 * `install` command calls. Same steps as verify.ts (integrity, signature, signer), with the signer
 * looked up among the trusted publishers and held to its scope.
 *
 * Threat: the bundle's key hint is chosen by whoever made the bundle. It only orders which trusted keys
 * are tried; acceptance always needs a trusted key under which the signature verifies.
 */
import type { TrustMaterial } from '@sigstore/verify';
import { HostError, isHostError } from '../errors.ts';
import { parsePublicKeyPem } from '../signing/keys.ts';
import { loadTrustMaterial } from '../signing/trust-root.ts';
import { bundleSummary, inspectBundle, verifyKeyedSignature, verifyKeylessSignature } from '../signing/verify.ts';
import type { VerifiedArtifact, VerifiedPackage, VerifiedSigner } from '../signing/verify.ts';
import { findTrustedSigner } from './policy.ts';
import type { Publisher, TrustPolicy } from './policy.ts';

export interface TrustedPackage extends VerifiedArtifact {
  readonly package: VerifiedPackage;
  /** The trust.json entry that vouches for the signer. */
  readonly publisher: Publisher;
}

/**
 * Verifies a package tarball and its bundle against the trust policy.
 * @throws HostError TARBALL_INVALID, BUNDLE_INVALID, SUBJECT_MISMATCH, INTEGRITY_MISMATCH,
 *   SIGNATURE_INVALID, TLOG_MISSING, UNTRUSTED_SIGNER, SIGNER_OUT_OF_SCOPE
 */
export function verifyTrustedPackage(tarball: Uint8Array, bundleJson: unknown, policy: TrustPolicy, options: { trustMaterial?: TrustMaterial } = {}): TrustedPackage {
  const inspected = inspectBundle(tarball, bundleJson, { requirePackage: true });
  const pkg = inspected.package;
  if (!pkg) throw new HostError('SUBJECT_MISMATCH', 'the signed statement does not bind a package name and version');
  const material = options.trustMaterial ?? loadTrustMaterial();

  let signer: VerifiedSigner;
  if (inspected.keyless) {
    signer = { kind: 'identity', ...verifyKeylessSignature(inspected, material) };
  } else {
    const keys = policy.publishers.filter((p): p is Extract<Publisher, { kind: 'key' }> => p.kind === 'key');
    const ordered = [...keys.filter((p) => p.keyId === inspected.keyHint), ...keys.filter((p) => p.keyId !== inspected.keyHint)];
    let verifiedKeyId: string | undefined;
    let hintedFailure: unknown;
    for (const p of ordered) {
      try {
        verifiedKeyId = verifyKeyedSignature(inspected, parsePublicKeyPem(p.publicKeyPem), material);
        break;
      } catch (e) {
        if (!isHostError(e) || (e.code !== 'UNTRUSTED_SIGNER' && e.code !== 'SIGNATURE_INVALID')) throw e;
        if (p.keyId === inspected.keyHint) hintedFailure = e;
      }
    }
    if (verifiedKeyId === undefined) {
      // The bundle names a trusted key but does not verify under it: tampered, not merely unknown.
      if (hintedFailure) throw hintedFailure;
      throw new HostError('UNTRUSTED_SIGNER', `no trusted key verifies this bundle (it names key ${(inspected.keyHint ?? 'none').slice(0, 64)})`);
    }
    signer = { kind: 'key', keyId: verifiedKeyId };
  }

  const decision = findTrustedSigner(policy, signer, pkg.name);
  if (!decision.trusted) throw new HostError(decision.code, decision.detail);
  const named: VerifiedSigner = signer.kind === 'key' ? { ...signer, name: decision.publisher.name } : signer;
  return { signer: named, digest: inspected.digest, package: pkg, bundle: bundleSummary(inspected.bundle), publisher: decision.publisher };
}
