/**
 * Verification of an npm package's attestations (GET <registry>/-/npm/v1/attestations/NAME@VERSION), as
 * npm's own client does (pacote `verifyAttestations`), offline against a Sigstore trusted root:
 *
 * 1. the SLSA provenance: a DSSE in-toto statement signed keylessly, its certificate chaining to a
 *    trusted CA with an SCT, its transparency-log entry verified; the certificate's extensions say which
 *    repository, workflow, ref and commit built the package (facts.ts);
 * 2. the registry's publish attestation: a DSSE in-toto statement signed by a registry key from
 *    /-/npm/v1/keys, the key valid (not expired) at the entry's log time, as npm checks it;
 * 3. both statements' subject is exactly `pkg:npm/NAME@VERSION` with sha512 = the tarball's digest.
 *
 * What npm does not do and the caller does next: decide whether that repository, workflow, ref and
 * issuer are trusted for this package (host/trust/policy.ts `findProvenancePublisher`).
 *
 * Threats: the document comes from the network. Its size, the number of attestations and keys are
 * bounded before any parsing; an entry's `predicateType` label is unauthenticated, so the signed
 * statement's own type must agree; the DSSE key id and the bundle's key hint only select a registry key,
 * the signature must verify under it. Each refusal has one code (docs/errors.md).
 */
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Bundle } from '@sigstore/bundle';
import { toSignedEntity, Verifier } from '@sigstore/verify';
import type { TrustMaterial } from '@sigstore/verify';
import ssri from 'ssri';
import { HostError, isHostError } from '../errors.ts';
import type { HostErrorCode } from '../errors.ts';
import { IN_TOTO_PAYLOAD_TYPE, parseStatement } from '../signing/statement.ts';
import type { Statement } from '../signing/statement.ts';
import { parseBundle, verifyKeylessSignature } from '../signing/verify.ts';
import { certificateProvenance } from './facts.ts';
import type { NpmProvenance } from './facts.ts';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_PROVENANCE_V02 = 'https://slsa.dev/provenance/v0.2';
export const NPM_PUBLISH_V01 = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';
const PROVENANCE_TYPES = new Set([SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02]);

/** Bounds on what the registry may hand us (npm publishes two attestations of a few KiB each). */
export const ATTESTATION_LIMITS = {
  /** The attestations document, serialized. */
  documentBytes: 4 * 1024 * 1024,
  attestations: 16,
  /** The keys document's entries. */
  keys: 64,
} as const;

export interface NpmAttestationsInput {
  readonly name: string;
  readonly version: string;
  /** The tarball's SRI sha512 (computed over the bytes held). */
  readonly integrity: string;
  /** Body of GET <registry>/-/npm/v1/attestations/<name>@<version>. */
  readonly attestations: unknown;
  /** Body of GET <registry>/-/npm/v1/keys (needed for the publish attestation). */
  readonly registryKeys?: unknown;
  readonly trustMaterial: TrustMaterial;
  /** Refuse without the registry's publish attestation (default true; the public registry always adds it). */
  readonly requirePublishAttestation?: boolean;
}

type ProvenanceCode = Extract<HostErrorCode, `PROVENANCE_${string}`>;

function fail(code: ProvenanceCode, message: string, cause?: unknown): HostError {
  return new HostError(code, message.slice(0, 500), cause === undefined ? undefined : { cause });
}

/** The purl npm signs for a package version (npm-package-arg `toPurl`): the scope's "@" percent-encoded. */
export function npmPackagePurl(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/u, '%40')}@${version}`;
}

interface Entry {
  readonly predicateType: string;
  readonly bundle: unknown;
}

/** The entries of the attestations document, bounded. @throws PROVENANCE_MISSING, PROVENANCE_INVALID */
function entriesOf(doc: unknown): Entry[] {
  if (doc === undefined || doc === null) throw fail('PROVENANCE_MISSING', 'the registry has no attestations for this version (published without provenance)');
  if (typeof doc !== 'object' || Array.isArray(doc)) throw fail('PROVENANCE_INVALID', 'the attestations document is not a JSON object');
  let size: number;
  try {
    size = JSON.stringify(doc).length;
  } catch (e) {
    throw fail('PROVENANCE_INVALID', 'the attestations document cannot be serialized', e);
  }
  if (size > ATTESTATION_LIMITS.documentBytes) throw fail('PROVENANCE_INVALID', `the attestations document is larger than ${ATTESTATION_LIMITS.documentBytes} bytes`);
  const list = (doc as { attestations?: unknown }).attestations;
  if (list === undefined) throw fail('PROVENANCE_MISSING', 'the attestations document holds no attestations');
  if (!Array.isArray(list)) throw fail('PROVENANCE_INVALID', 'the attestations document\'s "attestations" is not a list');
  if (list.length > ATTESTATION_LIMITS.attestations) throw fail('PROVENANCE_INVALID', `more than ${ATTESTATION_LIMITS.attestations} attestations`);
  return list.map((a: unknown, i) => {
    const e = a as { predicateType?: unknown; bundle?: unknown } | null;
    if (!e || typeof e !== 'object' || typeof e.predicateType !== 'string' || e.bundle === null || typeof e.bundle !== 'object') {
      throw fail('PROVENANCE_INVALID', `attestation ${i} has no predicateType or no bundle`);
    }
    return { predicateType: e.predicateType, bundle: e.bundle };
  });
}

/** The one entry of a kind; more than one is ambiguous. */
function single(entries: Entry[], accept: (type: string) => boolean, what: string): Entry | undefined {
  const found = entries.filter((e) => accept(e.predicateType));
  if (found.length > 1) throw fail('PROVENANCE_INVALID', `more than one ${what}`);
  return found[0];
}

/** The bundle of an entry, its DSSE in-toto statement, and the statement's own type agreeing with the label. */
function statementOf(entry: Entry, what: string): { bundle: Bundle; statement: Statement } {
  let bundle: Bundle;
  try {
    bundle = parseBundle(entry.bundle);
  } catch (e) {
    throw fail('PROVENANCE_INVALID', `the ${what} is not a valid Sigstore bundle: ${e instanceof Error ? e.message : 'error'}`, e);
  }
  if (bundle.content.$case !== 'dsseEnvelope' || bundle.content.dsseEnvelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw fail('PROVENANCE_INVALID', `the ${what} is not a DSSE envelope over an in-toto statement`);
  }
  const statement = parseStatement(bundle.content.dsseEnvelope.payload);
  if (!statement) throw fail('PROVENANCE_INVALID', `the ${what}'s payload is not an in-toto statement`);
  if (statement.predicateType !== entry.predicateType) throw fail('PROVENANCE_INVALID', `the ${what} is labelled ${entry.predicateType.slice(0, 100)} but signs a ${statement.predicateType.slice(0, 100)} statement`);
  return { bundle, statement };
}

/** The statement's one subject must be this package version with this sha512. */
function checkSubject(statement: Statement, purl: string, sha512: string, what: string): void {
  if (statement.subject.length !== 1) throw fail('PROVENANCE_SUBJECT_MISMATCH', `the ${what} has ${statement.subject.length} subjects, not one`);
  const subject = statement.subject[0] as Statement['subject'][number];
  if (subject.name !== purl) throw fail('PROVENANCE_SUBJECT_MISMATCH', `the ${what} is for ${subject.name.slice(0, 200)}, not ${purl}`);
  if (subject.digest.sha512 !== sha512) throw fail('PROVENANCE_SUBJECT_MISMATCH', `the ${what} signs another sha512 digest than the tarball's for ${purl}`);
}

/** The hex sha512 of an SRI integrity string. */
function sha512Of(integrity: string): string {
  const parsed = ssri.parse(integrity, { single: true, strict: true });
  if (!parsed || parsed.algorithm !== 'sha512') throw fail('PROVENANCE_INVALID', 'the tarball integrity given is not a sha512 SRI string');
  return parsed.hexDigest();
}

function leafCertificate(bundle: Bundle): Uint8Array | undefined {
  const vm = bundle.verificationMaterial.content;
  if (vm.$case === 'certificate') return vm.certificate.rawBytes;
  if (vm.$case === 'x509CertificateChain') return vm.x509CertificateChain.certificates[0]?.rawBytes;
  return undefined;
}

/** Step 1: the SLSA provenance, keyless, with a log entry; its certificate's facts. */
function verifyProvenance(bundle: Bundle, material: TrustMaterial): NpmProvenance {
  let identity: { identity: string; issuer: string };
  try {
    identity = verifyKeylessSignature({ bundle, digest: {}, keyless: bundle.verificationMaterial.content.$case !== 'publicKey' }, material);
  } catch (e) {
    const why = isHostError(e) && e.code === 'TLOG_MISSING' ? 'carries no transparency-log entry' : `does not verify: ${e instanceof Error ? e.message : 'error'}`;
    throw fail('PROVENANCE_INVALID', `the SLSA provenance ${why}`, e);
  }
  const der = leafCertificate(bundle);
  if (!der) throw fail('PROVENANCE_INVALID', 'the SLSA provenance has no signing certificate');
  const facts = certificateProvenance(der, identity.identity);
  const tlog = bundle.verificationMaterial.tlogEntries[0];
  if (!tlog) throw fail('PROVENANCE_INVALID', 'the SLSA provenance carries no transparency-log entry');
  const integratedTime = tlog.integratedTime && tlog.integratedTime !== '0' ? { integratedTime: tlog.integratedTime } : {};
  return { ...facts, transparencyLog: { logIndex: tlog.logIndex, ...integratedTime } };
}

interface RegistryKey {
  readonly keyid: string;
  readonly key: KeyObject;
  readonly expires?: Date;
}

/** The registry key with this id from /-/npm/v1/keys. @throws PROVENANCE_KEY_UNKNOWN, PROVENANCE_INVALID */
function registryKey(doc: unknown, keyid: string): RegistryKey {
  const keys = (doc as { keys?: unknown } | null | undefined)?.keys;
  if (doc === undefined || doc === null) throw fail('PROVENANCE_KEY_UNKNOWN', `the publish attestation is signed by registry key ${keyid.slice(0, 100)}, and no registry keys were given`);
  if (!Array.isArray(keys)) throw fail('PROVENANCE_INVALID', 'the registry keys document has no "keys" list');
  if (keys.length > ATTESTATION_LIMITS.keys) throw fail('PROVENANCE_INVALID', `the registry keys document lists more than ${ATTESTATION_LIMITS.keys} keys`);
  const raw = keys.find((k: unknown) => (k as { keyid?: unknown } | null)?.keyid === keyid) as { key?: unknown; expires?: unknown } | undefined;
  if (!raw) throw fail('PROVENANCE_KEY_UNKNOWN', `the publish attestation is signed by registry key ${keyid.slice(0, 100)}, which the registry does not list`);
  let key: KeyObject;
  try {
    if (typeof raw.key !== 'string' || raw.key.length > 4096) throw new Error('no key');
    key = createPublicKey({ key: Buffer.from(raw.key, 'base64'), format: 'der', type: 'spki' });
  } catch (e) {
    throw fail('PROVENANCE_INVALID', `registry key ${keyid.slice(0, 100)} is not a public key`, e);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw fail('PROVENANCE_INVALID', `registry key ${keyid.slice(0, 100)} is not ECDSA P-256`);
  if (raw.expires === undefined || raw.expires === null) return { keyid, key };
  const expires = typeof raw.expires === 'string' ? new Date(raw.expires) : new Date(Number.NaN);
  if (Number.isNaN(expires.getTime())) throw fail('PROVENANCE_INVALID', `registry key ${keyid.slice(0, 100)} has an unreadable expiry`);
  return { keyid, key, expires };
}

/** Step 2: the publish attestation, signed by a registry key valid when it was logged. Returns the key id. */
function verifyPublish(bundle: Bundle, registryKeys: unknown, material: TrustMaterial): string {
  const vm = bundle.verificationMaterial.content;
  if (vm.$case !== 'publicKey') throw fail('PROVENANCE_INVALID', 'the publish attestation is not signed with a registry key');
  const env = bundle.content.$case === 'dsseEnvelope' ? bundle.content.dsseEnvelope : undefined;
  // npm selects the key by the DSSE signature's keyid; the bundle's hint names the same key.
  const keyid = env?.signatures[0]?.keyid || vm.publicKey.hint;
  if (!keyid) throw fail('PROVENANCE_KEY_UNKNOWN', 'the publish attestation names no key id');
  const key = registryKey(registryKeys, keyid);
  const tlog = bundle.verificationMaterial.tlogEntries[0];
  if (!tlog) throw fail('PROVENANCE_INVALID', 'the publish attestation carries no transparency-log entry');
  // As npm: the key must not have expired when the attestation was logged (not now: old releases stay valid).
  const logged = new Date(Number(tlog.integratedTime) * 1000);
  if (key.expires && Number(tlog.integratedTime) > 0 && !(logged < key.expires)) {
    throw fail('PROVENANCE_KEY_EXPIRED', `registry key ${keyid.slice(0, 100)} expired ${key.expires.toISOString()}, before the publish attestation was logged (${logged.toISOString()})`);
  }
  const keyed: TrustMaterial = { ...material, publicKey: () => ({ publicKey: key.key, validFor: (d: Date) => !key.expires || d < key.expires }) };
  try {
    new Verifier(keyed, { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 1 }).verify(toSignedEntity(bundle));
  } catch (e) {
    const expired = (e as { code?: unknown }).code === 'PUBLIC_KEY_ERROR';
    throw fail(expired ? 'PROVENANCE_KEY_EXPIRED' : 'PROVENANCE_INVALID', `the publish attestation does not verify under registry key ${keyid.slice(0, 100)}: ${e instanceof Error ? e.message : 'error'}`, e);
  }
  return keyid;
}

/**
 * Verifies an npm package version's attestations against its tarball digest. Returns what the
 * provenance proves; whether that source is trusted is decided separately.
 * @throws HostError PROVENANCE_MISSING, PROVENANCE_INVALID, PROVENANCE_SUBJECT_MISMATCH,
 *   PROVENANCE_KEY_UNKNOWN, PROVENANCE_KEY_EXPIRED
 */
export function verifyNpmAttestations(input: NpmAttestationsInput): NpmProvenance {
  const sha512 = sha512Of(input.integrity);
  const purl = npmPackagePurl(input.name, input.version);
  const entries = entriesOf(input.attestations);
  const provenance = single(entries, (t) => PROVENANCE_TYPES.has(t), 'SLSA provenance attestation');
  if (!provenance) throw fail('PROVENANCE_MISSING', `${input.name}@${input.version} has no SLSA provenance attestation`);
  const publish = single(entries, (t) => t === NPM_PUBLISH_V01, 'publish attestation');

  // Subjects first: cheap, and a replayed attestation of another package is refused as such.
  const prov = statementOf(provenance, 'SLSA provenance');
  checkSubject(prov.statement, purl, sha512, 'SLSA provenance');
  if (!publish && (input.requirePublishAttestation ?? true)) throw fail('PROVENANCE_MISSING', `${input.name}@${input.version} has no publish attestation from the registry`);
  const pub = publish ? statementOf(publish, 'publish attestation') : undefined;
  if (pub) {
    checkSubject(pub.statement, purl, sha512, 'publish attestation');
    const predicate = pub.statement.predicate as { name?: unknown; version?: unknown } | null | undefined;
    if (predicate?.name !== input.name || predicate.version !== input.version) {
      throw fail('PROVENANCE_SUBJECT_MISMATCH', `the publish attestation's predicate names another package or version than ${input.name}@${input.version}`);
    }
  }

  const facts = verifyProvenance(prov.bundle, input.trustMaterial);
  if (!pub) return facts;
  return { ...facts, publishKeyId: verifyPublish(pub.bundle, input.registryKeys, input.trustMaterial) };
}
