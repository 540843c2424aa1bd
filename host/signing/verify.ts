/**
 * Verification of a file against a Sigstore bundle, like `cosign verify-blob`: any bundle version,
 * message signature or DSSE, keyed or keyless, Rekor v1 or v2 entries, with or without a timestamp
 * authority. Offline: trust material comes from a trusted root file (trust-root.ts).
 *
 * Order: (1) the bundle parses; (2) integrity: the file is what the bundle signs (digest, and for a
 * package tarball the statement's name and version); (3) signature: certificate chain, timestamps,
 * transparency log, signature, through @sigstore/verify; (4) signer: exact identity and issuer, or
 * the pinned key. Each refusal is a HostError with its own code; success returns what was verified.
 *
 * Traps handled here rather than trusted to the library:
 * - @sigstore/verify matches a certificate identity as an unanchored regular expression
 *   ("user@example.com" accepts "evil-user@example.com"): identities are compared exactly, or with an
 *   anchored expression only when the caller asks for one.
 * - For DSSE it never compares the artifact with the statement's subjects: we do.
 * - A keyless bundle without a transparency-log entry is refused (TLOG_MISSING) before the library's
 *   threshold logic, so the reason is clear.
 */
import { X509Certificate, createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { HashAlgorithm } from '@sigstore/protobuf-specs';
import type { Bundle } from '@sigstore/bundle';
import { toSignedEntity, Verifier } from '@sigstore/verify';
import type { TrustMaterial } from '@sigstore/verify';
import ssri from 'ssri';
import { HostError } from '../errors.ts';
import { readPackageJsonFromTarball } from '../pack/extract.ts';
import { keyIdOf, parsePublicKeyPem } from './keys.ts';
import { IN_TOTO_PAYLOAD_TYPE, npmPurl, packagePredicate, parseStatement } from './statement.ts';
import { loadTrustMaterial } from './trust-root.ts';

/** Who must have signed: plain data, as written in trust.json or given on the command line. */
export type SignerPolicy =
  | { readonly kind: 'key'; readonly publicKeyPem: string; readonly name?: string }
  | { readonly kind: 'identity'; readonly identity: string; readonly issuer: string }
  | { readonly kind: 'identity-regexp'; readonly pattern: string; readonly issuer: string };

/** The signer as verified. */
export type VerifiedSigner =
  | { readonly kind: 'key'; readonly keyId: string; readonly name?: string }
  | { readonly kind: 'identity'; readonly identity: string; readonly issuer: string };

export interface VerifiedPackage {
  readonly name: string;
  readonly version: string;
  /** SRI "sha512-…" of the tarball. */
  readonly integrity: string;
}

export interface VerifiedArtifact {
  readonly signer: VerifiedSigner;
  /** Hex digests of the verified file (verified by digest: the one given). */
  readonly digest: ArtifactDigests;
  /** Present when the file is an npm-layout package tarball. */
  readonly package?: VerifiedPackage;
  readonly bundle: {
    readonly mediaType: string;
    readonly content: 'dsseEnvelope' | 'messageSignature';
    readonly tlogEntries: number;
    readonly rfc3161Timestamps: number;
  };
}

export interface VerifyOptions {
  /** Trust material for certificates, logs and TSAs; default: the public-good root in keys/. */
  readonly trustMaterial?: TrustMaterial;
  /** Refuse unless the file is a package tarball whose name and version the signed statement binds. */
  readonly requirePackage?: boolean;
}

export interface ArtifactDigests {
  readonly sha256?: string;
  readonly sha512?: string;
}

/** An artifact known only by its digest ("sha256:<hex>", "sha512:<hex>"), as cosign accepts. */
export interface ArtifactDigest {
  readonly algorithm: 'sha256' | 'sha512';
  /** Lower-case hex. */
  readonly hex: string;
}

/** A bundle checked against the file, not yet against a signer: the first half of verification. */
export interface InspectedBundle {
  readonly bundle: Bundle;
  /** The file; absent when verifying by digest (a DSSE signature covers its payload, not the file). */
  readonly artifact?: Buffer;
  readonly digest: ArtifactDigests;
  readonly package?: VerifiedPackage;
  readonly keyless: boolean;
  /** The public-key hint of a keyed bundle (unauthenticated: used only to pick a key and explain a refusal). */
  readonly keyHint?: string;
}

const HASH_NAMES: Partial<Record<HashAlgorithm, string>> = {
  [HashAlgorithm.HASH_ALGORITHM_UNSPECIFIED]: 'sha256',
  [HashAlgorithm.SHA2_256]: 'sha256',
  [HashAlgorithm.SHA2_384]: 'sha384',
  [HashAlgorithm.SHA2_512]: 'sha512',
};

function fail(code: 'INTEGRITY_MISMATCH' | 'SUBJECT_MISMATCH' | 'BUNDLE_INVALID' | 'SIGNATURE_INVALID' | 'TLOG_MISSING' | 'UNTRUSTED_SIGNER' | 'IDENTITY_MISMATCH' | 'ISSUER_MISMATCH' | 'USAGE', message: string, cause?: unknown): HostError {
  return new HostError(code, message, { cause });
}

/** Parses and validates bundle JSON (any supported version). @throws HostError BUNDLE_INVALID */
export function parseBundle(json: unknown): Bundle {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (e) {
    throw fail('BUNDLE_INVALID', `not a valid Sigstore bundle: ${e instanceof Error ? e.message : 'parse error'}`.slice(0, 300), e);
  }
  if (bundle.content.$case === 'dsseEnvelope' && bundle.content.dsseEnvelope.signatures.length !== 1) {
    // The library verifies only the first signature; more would be ambiguous about who signed.
    throw fail('BUNDLE_INVALID', 'the DSSE envelope must carry exactly one signature');
  }
  return bundle;
}

/** The package a tarball claims to be (from its own package.json), or undefined when it is not one. */
function tarballPackage(artifact: Buffer, required: boolean): { name: string; version: string } | undefined {
  const gzip = artifact.length > 2 && artifact[0] === 0x1f && artifact[1] === 0x8b;
  if (!gzip && !required) return undefined;
  try {
    const { json } = readPackageJsonFromTarball(artifact);
    const { name, version } = (json ?? {}) as { name?: unknown; version?: unknown };
    if (typeof name === 'string' && typeof version === 'string' && name && version) return { name, version };
    if (required) throw new HostError('MANIFEST_INVALID', 'package.json of the tarball has no name or version');
  } catch (e) {
    if (required) throw e;
  }
  return undefined;
}

/**
 * "sha256:<64 hex>" or "sha512:<128 hex>" → the digest; undefined for anything else (a file name).
 * @throws HostError USAGE for a "sha256:"/"sha512:" prefix with a malformed digest
 */
export function parseArtifactDigest(text: string): ArtifactDigest | undefined {
  const m = /^(sha256|sha512):(.*)$/s.exec(text);
  if (!m) return undefined;
  const algorithm = m[1] === 'sha256' ? 'sha256' : 'sha512';
  const length = algorithm === 'sha256' ? 64 : 128;
  const hex = m[2] ?? '';
  if (hex.length !== length || !/^[0-9a-fA-F]+$/.test(hex)) throw fail('USAGE', `a ${algorithm} digest is "${algorithm}:" and ${length} hexadecimal digits`);
  return { algorithm, hex: hex.toLowerCase() };
}

/**
 * Step 1 and 2 for an artifact known by its digest: the bundle must sign exactly that digest. A DSSE
 * in-toto statement names it as a subject (then a package statement's name and version are reported,
 * as signed); a DSSE payload that is not a statement must hash to it. A message signature covers the
 * file's bytes and cannot be verified from a digest (Node has no prehashed ECDSA): the file is needed.
 * @throws HostError BUNDLE_INVALID, INTEGRITY_MISMATCH, USAGE
 */
export function inspectBundleByDigest(wanted: ArtifactDigest, bundleJson: unknown): InspectedBundle {
  const bundle = parseBundle(bundleJson);
  const digest: ArtifactDigests = { [wanted.algorithm]: wanted.hex };
  let pkg: VerifiedPackage | undefined;
  if (bundle.content.$case === 'messageSignature') {
    const md = bundle.content.messageSignature.messageDigest;
    const signed = md ? Buffer.from(md.digest).toString('hex') : '';
    if (HASH_NAMES[md?.algorithm ?? HashAlgorithm.SHA2_256] === wanted.algorithm && signed !== wanted.hex) throw fail('INTEGRITY_MISMATCH', `the bundle does not sign ${wanted.algorithm}:${wanted.hex}`);
    throw fail('USAGE', 'this bundle is a message signature over the file\'s bytes: give the file, not its digest');
  }
  const env = bundle.content.dsseEnvelope;
  const statement = env.payloadType === IN_TOTO_PAYLOAD_TYPE ? parseStatement(env.payload) : null;
  if (!statement) {
    if (createHash(wanted.algorithm).update(env.payload).digest('hex') !== wanted.hex) throw fail('INTEGRITY_MISMATCH', `the signed DSSE payload is not ${wanted.algorithm}:${wanted.hex}`);
  } else {
    const subject = statement.subject.find((s) => s.digest[wanted.algorithm]?.toLowerCase() === wanted.hex);
    if (!subject) throw fail('INTEGRITY_MISMATCH', `no subject of the signed statement has ${wanted.algorithm}:${wanted.hex}`);
    const predicate = packagePredicate(statement);
    if (predicate && subject.name === npmPurl(predicate.name, predicate.version)) {
      const parsed = ssri.parse(predicate.integrity, { single: true, strict: true });
      if (!parsed || parsed.algorithm !== 'sha512' || parsed.hexDigest() !== subject.digest.sha512) throw fail('SUBJECT_MISMATCH', 'the signed integrity and the signed sha512 digest disagree');
      pkg = predicate;
    }
  }
  const vm = bundle.verificationMaterial.content;
  return {
    bundle,
    digest,
    ...(pkg ? { package: pkg } : {}),
    keyless: vm.$case !== 'publicKey',
    ...(vm.$case === 'publicKey' ? { keyHint: vm.publicKey.hint } : {}),
  };
}

/**
 * Step 1 and 2: parse the bundle and check that it signs this very file (and, for a package tarball,
 * this name and version). Nothing here is trusted yet: the signature is checked next.
 * @throws HostError BUNDLE_INVALID, INTEGRITY_MISMATCH, SUBJECT_MISMATCH, TARBALL_INVALID
 */
export function inspectBundle(artifactBytes: Uint8Array, bundleJson: unknown, options: { requirePackage?: boolean } = {}): InspectedBundle {
  const bundle = parseBundle(bundleJson);
  const artifact = Buffer.from(artifactBytes);
  const digest = {
    sha256: createHash('sha256').update(artifact).digest('hex'),
    sha512: createHash('sha512').update(artifact).digest('hex'),
  };
  const claimed = tarballPackage(artifact, options.requirePackage ?? false);
  const integrity = ssri.fromData(artifact, { algorithms: ['sha512'] }).toString();
  let pkg: VerifiedPackage | undefined = claimed ? { ...claimed, integrity } : undefined;

  if (bundle.content.$case === 'messageSignature') {
    // The signature covers the file's own bytes, package.json included, so name and version are bound.
    const md = bundle.content.messageSignature.messageDigest;
    const expected = md ? Buffer.from(md.digest).toString('hex') : '';
    const alg = HASH_NAMES[md?.algorithm ?? HashAlgorithm.SHA2_256];
    if (!alg) throw fail('BUNDLE_INVALID', 'the message digest uses an unsupported hash algorithm');
    const actual = createHash(alg).update(artifact).digest('hex');
    if (expected !== actual) throw fail('INTEGRITY_MISMATCH', 'the file does not match the digest the bundle signs');
    if (options.requirePackage) throw fail('SUBJECT_MISMATCH', 'a package needs a signed statement (DSSE) binding its name and version; this bundle is a bare message signature');
  } else {
    const env = bundle.content.dsseEnvelope;
    const statement = env.payloadType === IN_TOTO_PAYLOAD_TYPE ? parseStatement(env.payload) : null;
    if (!statement) {
      // Not an in-toto statement: the only binding is the payload being the file itself.
      if (!Buffer.from(env.payload).equals(artifact)) throw fail('INTEGRITY_MISMATCH', `the file is not the signed DSSE payload (${env.payloadType.slice(0, 100)}), and that payload is no in-toto statement`);
      if (options.requirePackage) throw fail('SUBJECT_MISMATCH', 'a package needs an in-toto statement binding its name and version');
    } else if (claimed) {
      const purl = npmPurl(claimed.name, claimed.version);
      const subject = statement.subject.find((s) => s.name === purl);
      if (!subject) {
        const names = statement.subject.map((s) => s.name).slice(0, 3).join(', ');
        throw fail('SUBJECT_MISMATCH', `the signed statement is for ${names || 'nothing'}, not ${purl}`);
      }
      if (subject.digest.sha512 !== digest.sha512) throw fail('INTEGRITY_MISMATCH', `the tarball's sha512 is not the one signed for ${purl}`);
      const predicate = packagePredicate(statement);
      if (predicate) {
        if (predicate.name !== claimed.name || predicate.version !== claimed.version) {
          throw fail('SUBJECT_MISMATCH', `the signed predicate names ${predicate.name}@${predicate.version}, not ${claimed.name}@${claimed.version}`);
        }
        // Cross-check the SRI integrity with the subject digest, then with the bytes (error: true, or
        // ssri answers false instead of throwing).
        const parsed = ssri.parse(predicate.integrity, { single: true, strict: true });
        if (!parsed || parsed.algorithm !== 'sha512' || parsed.hexDigest() !== subject.digest.sha512) {
          throw fail('SUBJECT_MISMATCH', 'the signed integrity and the signed sha512 digest disagree');
        }
        try {
          ssri.checkData(artifact, predicate.integrity, { error: true });
        } catch (e) {
          throw fail('INTEGRITY_MISMATCH', 'the tarball does not match the signed integrity', e);
        }
        pkg = { name: claimed.name, version: claimed.version, integrity: predicate.integrity };
      } else if (options.requirePackage) {
        throw fail('SUBJECT_MISMATCH', `the statement's predicate type ${statement.predicateType.slice(0, 100)} does not describe an mcp-warden package`);
      }
    } else {
      const match = statement.subject.some((s) => s.digest.sha512 === digest.sha512 || s.digest.sha256 === digest.sha256);
      if (!match) throw fail('INTEGRITY_MISMATCH', 'no subject of the signed statement has this file\'s digest');
    }
  }

  const vm = bundle.verificationMaterial.content;
  return {
    bundle,
    artifact,
    digest,
    ...(pkg ? { package: pkg } : {}),
    keyless: vm.$case !== 'publicKey',
    ...(vm.$case === 'publicKey' ? { keyHint: vm.publicKey.hint } : {}),
  };
}

export function bundleSummary(bundle: Bundle): VerifiedArtifact['bundle'] {
  return {
    mediaType: bundle.mediaType,
    content: bundle.content.$case,
    tlogEntries: bundle.verificationMaterial.tlogEntries.length,
    rfc3161Timestamps: bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length ?? 0,
  };
}

/**
 * Step 3 for a keyed bundle: the signature verifies under `key` (and any log entries or timestamps the
 * bundle carries verify against the trust material).
 * @throws HostError UNTRUSTED_SIGNER (another key signed), SIGNATURE_INVALID
 */
export function verifyKeyedSignature(inspected: InspectedBundle, key: KeyObject, material: TrustMaterial): string {
  if (inspected.keyless) throw fail('UNTRUSTED_SIGNER', 'the bundle is signed keylessly (a certificate), but a public key was required');
  const keyId = keyIdOf(key);
  // The hint is ignored for the check itself: the only key tried is the one the policy names.
  const keyed: TrustMaterial = { ...material, publicKey: () => ({ publicKey: key, validFor: () => true }) };
  try {
    new Verifier(keyed, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(inspected.bundle, inspected.artifact));
  } catch (e) {
    const otherKey = inspected.keyHint && inspected.keyHint !== keyId && (e as { code?: string }).code === 'SIGNATURE_ERROR';
    if (otherKey) throw fail('UNTRUSTED_SIGNER', `signed by key ${inspected.keyHint.slice(0, 64)}, not by the required key ${keyId}`, e);
    throw fail('SIGNATURE_INVALID', `signature verification failed: ${e instanceof Error ? e.message : 'error'}`.slice(0, 300), e);
  }
  return keyId;
}

/**
 * Step 3 for a keyless bundle: certificate chain to a trusted CA at a verified time (Rekor integrated
 * time or TSA), SCT, transparency-log inclusion, signature. Returns the certificate's identity and
 * issuer, not yet compared with any policy.
 * @throws HostError TLOG_MISSING, SIGNATURE_INVALID, UNTRUSTED_SIGNER (keyed bundle)
 */
export function verifyKeylessSignature(inspected: InspectedBundle, material: TrustMaterial): { identity: string; issuer: string } {
  if (!inspected.keyless) throw fail('UNTRUSTED_SIGNER', 'the bundle is signed with a public key, but a keyless (certificate) signer was required');
  // Without a log entry nobody can audit that this certificate was used: refuse, whatever else verifies.
  if (inspected.bundle.verificationMaterial.tlogEntries.length === 0) throw fail('TLOG_MISSING', 'the keyless bundle carries no transparency-log entry');
  let signer;
  try {
    signer = new Verifier(material, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }).verify(toSignedEntity(inspected.bundle, inspected.artifact));
  } catch (e) {
    throw fail('SIGNATURE_INVALID', `signature verification failed: ${e instanceof Error ? e.message : 'error'}`.slice(0, 300), e);
  }
  requireCodeSigning(inspected.bundle);
  const identity = signer.identity?.subjectAlternativeName;
  const issuer = signer.identity?.extensions?.issuer;
  if (!identity || !issuer) throw fail('SIGNATURE_INVALID', 'the signing certificate names no identity or no issuer');
  return { identity, issuer };
}

/** id-kp-codeSigning (RFC 5280 §4.2.1.12): Fulcio sets it on every certificate it issues. */
export const CODE_SIGNING_EKU = '1.3.6.1.5.5.7.3.3';

/**
 * The leaf certificate must be for code signing: a certificate the trusted CA issued for another purpose
 * does not sign packages (cosign and sigstore-go check the same). @throws HostError SIGNATURE_INVALID
 */
function requireCodeSigning(bundle: Bundle): void {
  const vm = bundle.verificationMaterial.content;
  const der = vm.$case === 'certificate' ? vm.certificate.rawBytes : vm.$case === 'x509CertificateChain' ? vm.x509CertificateChain.certificates[0]?.rawBytes : undefined;
  let usages: string[] | undefined;
  try {
    usages = der ? new X509Certificate(Buffer.from(der)).keyUsage : undefined;
  } catch (e) {
    throw fail('SIGNATURE_INVALID', 'the signing certificate cannot be read', e);
  }
  if (!usages?.includes(CODE_SIGNING_EKU)) throw fail('SIGNATURE_INVALID', 'the signing certificate is not for code signing (no code-signing extended key usage)');
}

/** Compiles an identity pattern anchored at both ends. @throws HostError USAGE */
export function anchoredPattern(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch (e) {
    throw fail('USAGE', `invalid identity regular expression: ${e instanceof Error ? e.message : 'error'}`, e);
  }
}

/** Step 4 for keyless: the identity (exactly, or an anchored pattern) and the issuer (exactly). */
export function checkIdentity(actual: { identity: string; issuer: string }, policy: Extract<SignerPolicy, { kind: 'identity' | 'identity-regexp' }>): void {
  const ok = policy.kind === 'identity' ? actual.identity === policy.identity : anchoredPattern(policy.pattern).test(actual.identity);
  if (!ok) {
    const wanted = policy.kind === 'identity' ? policy.identity : `/^(?:${policy.pattern})$/`;
    throw fail('IDENTITY_MISMATCH', `signed by ${actual.identity.slice(0, 200)}, expected ${wanted.slice(0, 200)}`);
  }
  if (actual.issuer !== policy.issuer) throw fail('ISSUER_MISMATCH', `identity issued by ${actual.issuer.slice(0, 200)}, expected ${policy.issuer.slice(0, 200)}`);
}

/**
 * Verifies `artifact` (a file's bytes, or its digest) against `bundleJson` for one signer policy.
 * @throws HostError with the code of the first failed step (see the module comment)
 */
export function verifyArtifact(artifact: Uint8Array | ArtifactDigest, bundleJson: unknown, policy: SignerPolicy, options: VerifyOptions = {}): VerifiedArtifact {
  const inspected =
    artifact instanceof Uint8Array ? inspectBundle(artifact, bundleJson, { requirePackage: options.requirePackage ?? false }) : inspectBundleByDigest(artifact, bundleJson);
  if (options.requirePackage && !inspected.package) throw fail('SUBJECT_MISMATCH', 'the signed statement does not describe an mcp-warden package');
  const material = options.trustMaterial ?? loadTrustMaterial();
  let signer: VerifiedSigner;
  if (policy.kind === 'key') {
    const keyId = verifyKeyedSignature(inspected, parsePublicKeyPem(policy.publicKeyPem), material);
    signer = policy.name ? { kind: 'key', keyId, name: policy.name } : { kind: 'key', keyId };
  } else {
    if (policy.kind === 'identity-regexp') anchoredPattern(policy.pattern); // a bad pattern is a usage error, before any work
    const actual = verifyKeylessSignature(inspected, material);
    checkIdentity(actual, policy);
    signer = { kind: 'identity', ...actual };
  }
  return {
    signer,
    digest: inspected.digest,
    ...(inspected.package ? { package: inspected.package } : {}),
    bundle: bundleSummary(inspected.bundle),
  };
}
