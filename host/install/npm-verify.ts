/**
 * Verifying a package from an npm registry by its provenance, at install and again at serve (from the
 * copy kept in the home, offline).
 *
 * Order: the tarball's own sha512 (computed here, never taken from the registry) is the subject both
 * attestations must name with `pkg:npm/NAME@VERSION`; the SLSA provenance must chain to the trusted root
 * with a transparency-log entry, and the publish attestation must be signed by a registry key
 * (host/provenance/verify.ts); then the certificate's repository, workflow, ref and issuer must match a
 * provenance publisher of trust.json for this name (findProvenancePublisher). The signer recorded in
 * lock.json is `provenance:[issuer, repository, workflow, ref]`.
 */
import ssri from 'ssri';
import type { TrustMaterial } from '@sigstore/verify';
import { HostError } from '../errors.ts';
import { provenanceSigner } from '../provenance/facts.ts';
import type { NpmProvenance } from '../provenance/facts.ts';
import { verifyNpmAttestations } from '../provenance/verify.ts';
import { findProvenancePublisher } from '../trust/policy.ts';
import type { TrustPolicy } from '../trust/policy.ts';
import { signerId } from './signer.ts';
import type { NpmOrigin } from './source.ts';

/** A package verified by its provenance. */
export interface VerifiedNpm {
  readonly name: string;
  readonly version: string;
  /** SRI sha512 of the tarball, computed over the bytes held. */
  readonly integrity: string;
  /** The lock.json signer id. */
  readonly signer: string;
  /** The trust.json publisher that trusted it. */
  readonly publisher: string;
  readonly provenance: NpmProvenance;
}

/**
 * Verifies `tarball` as `origin.name@origin.version` by its attestations, then the trust decision.
 * @throws HostError PROVENANCE_* (host/provenance/verify.ts and the trust decision)
 */
export function verifyNpmPackage(tarball: Uint8Array, origin: Pick<NpmOrigin, 'name' | 'version' | 'attestations' | 'keys'>, policy: TrustPolicy, trustMaterial: TrustMaterial): VerifiedNpm {
  const integrity = ssri.fromData(Buffer.from(tarball), { algorithms: ['sha512'] }).toString();
  const provenance = verifyNpmAttestations({ name: origin.name, version: origin.version, integrity, attestations: origin.attestations, registryKeys: origin.keys, trustMaterial });
  const decision = findProvenancePublisher(policy, provenance, origin.name);
  if (!decision.trusted) throw new HostError(decision.code, `${origin.name}@${origin.version}: ${decision.detail}`);
  return { name: origin.name, version: origin.version, integrity, signer: signerId(provenanceSigner(provenance)), publisher: decision.publisher.name, provenance };
}
