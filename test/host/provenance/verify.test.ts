import { createHash } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packToBuffer } from '../../../host/pack/pack.ts';
import { loadTrustMaterial } from '../../../host/signing/trust-root.ts';
import { ATTESTATION_LIMITS, verifyNpmAttestations } from '../../../host/provenance/verify.ts';
import type { NpmAttestationsInput } from '../../../host/provenance/verify.ts';
import { codeOf } from '../../helpers/codes.ts';
import { GITHUB_ISSUER, PUBLISH_V01, SLSA_V1, makeNpmAttestations, makeRegistryKey, registryKeysDocument } from '../../helpers/npm-attestations.ts';
import type { NpmAttestations } from '../../helpers/npm-attestations.ts';
import { startSigstoreStack } from '../../helpers/sigstore-stack.ts';
import type { SigstoreStack } from '../../helpers/sigstore-stack.ts';
import { tempDir, writeToolPackage } from '../../helpers/tool-package.ts';

const NAME = '@acme/weather-tool';
const VERSION = '1.2.0';

let stack: SigstoreStack;
let material: TrustMaterial;
let tarball: Buffer;
let good: NpmAttestations;

type Doc = NpmAttestations['attestations'];
/** The parts of a serialized bundle the tests edit. */
interface JsonBundle {
  dsseEnvelope: { payload: string; signatures: { sig: string }[] };
  verificationMaterial: { tlogEntries: unknown[] };
}
interface JsonStatement {
  subject: { name: string; digest: { sha512: string } }[];
}

function input(over: Partial<NpmAttestationsInput> = {}): NpmAttestationsInput {
  return { name: NAME, version: VERSION, integrity: good.integrity, attestations: good.attestations, registryKeys: good.keys, trustMaterial: material, ...over };
}

/** A deep copy of the good document with one attestation's bundle changed. */
function edited(predicateType: string, edit: (bundle: JsonBundle) => void): Doc {
  const doc = structuredClone(good.attestations);
  const entry = doc.attestations.find((a) => a.predicateType === predicateType);
  if (!entry) throw new Error(`no ${predicateType}`);
  edit(entry.bundle as unknown as JsonBundle);
  return doc;
}

function payloadOf(bundle: JsonBundle): JsonStatement {
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as JsonStatement;
}

function setPayload(bundle: JsonBundle, statement: object): void {
  bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
}

function flipLastByte(bundle: JsonBundle): void {
  const signature = bundle.dsseEnvelope.signatures[0];
  if (!signature) throw new Error('no signature');
  const sig = Buffer.from(signature.sig, 'base64');
  sig[sig.length - 1] = (sig[sig.length - 1] ?? 0) ^ 1;
  signature.sig = sig.toString('base64');
}

beforeAll(async () => {
  stack = await startSigstoreStack();
  material = loadTrustMaterial(stack.trustedRootFile);
  tarball = (await packToBuffer(writeToolPackage(tempDir(), NAME, VERSION))).data;
  good = await makeNpmAttestations(stack, { name: NAME, version: VERSION, tarball, commit: 'c0ffee'.padEnd(40, '0') });
});

afterAll(async () => {
  await stack?.close();
});

describe('verifyNpmAttestations', () => {
  describe('with the attestations the registry serves for this tarball', () => {
    it('returns the repository, workflow, ref, commit, issuer, builder and log entry the certificate proves', () => {
      const p = verifyNpmAttestations(input());
      expect(p).toMatchObject({
        repository: 'github.com/acme/weather-tool',
        workflow: '.github/workflows/release.yml',
        ref: 'refs/tags/v1.2.0',
        commit: 'c0ffee'.padEnd(40, '0'),
        issuer: GITHUB_ISSUER,
        builder: 'https://github.com/acme/weather-tool/.github/workflows/release.yml@refs/tags/v1.2.0',
        publishKeyId: good.registryKey.keyid,
      });
      expect(p.transparencyLog.logIndex).toMatch(/^\d+$/);
      expect(Number(p.transparencyLog.integratedTime)).toBeGreaterThan(0);
    });

    it('verifies an unscoped package too (its purl has no %40)', async () => {
      const t = (await packToBuffer(writeToolPackage(tempDir(), 'weather', '2.0.0'))).data;
      const a = await makeNpmAttestations(stack, { name: 'weather', version: '2.0.0', tarball: t });
      expect(verifyNpmAttestations({ name: 'weather', version: '2.0.0', integrity: a.integrity, attestations: a.attestations, registryKeys: a.keys, trustMaterial: material }).ref).toBe('refs/tags/v2.0.0');
    });
  });

  describe('when an attestation is for another package, version or tarball', () => {
    it('refuses another name', () => {
      expect(codeOf(() => verifyNpmAttestations(input({ name: '@acme/other-tool' })))).toBe('PROVENANCE_SUBJECT_MISMATCH');
    });

    it('refuses another version', () => {
      expect(codeOf(() => verifyNpmAttestations(input({ version: '1.2.1' })))).toBe('PROVENANCE_SUBJECT_MISMATCH');
    });

    it('refuses another tarball digest', () => {
      const other = `sha512-${createHash('sha512').update(Buffer.concat([tarball, Buffer.from([0])])).digest('base64')}`;
      expect(codeOf(() => verifyNpmAttestations(input({ integrity: other })))).toBe('PROVENANCE_SUBJECT_MISMATCH');
    });

    it('refuses a validly signed provenance whose subject is another package (a replay)', async () => {
      const replay = await makeNpmAttestations(stack, { name: NAME, version: VERSION, tarball, subject: { name: 'pkg:npm/%40acme/other@1.2.0' } });
      expect(codeOf(() => verifyNpmAttestations(input({ attestations: replay.attestations, registryKeys: replay.keys })))).toBe('PROVENANCE_SUBJECT_MISMATCH');
    });
  });

  describe('when an attestation was tampered with', () => {
    it('refuses a provenance payload whose subject digest was rewritten to the tarball\'s (signature no longer verifies)', async () => {
      const other = await makeNpmAttestations(stack, { name: NAME, version: VERSION, tarball: Buffer.from('another tarball') });
      const doc = structuredClone(other.attestations);
      for (const a of doc.attestations) {
        const b = a.bundle as unknown as JsonBundle;
        const s = payloadOf(b);
        (s.subject[0] as JsonStatement['subject'][number]).digest.sha512 = createHash('sha512').update(tarball).digest('hex');
        setPayload(b, s);
      }
      expect(codeOf(() => verifyNpmAttestations(input({ attestations: doc, registryKeys: other.keys })))).toBe('PROVENANCE_INVALID');
    });

    it('refuses a provenance whose signature was altered', () => {
      const doc = edited(SLSA_V1, (b) => {
        flipLastByte(b);
      });
      expect(codeOf(() => verifyNpmAttestations(input({ attestations: doc })))).toBe('PROVENANCE_INVALID');
    });

    it('refuses a provenance without its transparency-log entry', () => {
      const doc = edited(SLSA_V1, (b) => {
        b.verificationMaterial.tlogEntries = [];
      });
      expect(codeOf(() => verifyNpmAttestations(input({ attestations: doc })))).toBe('PROVENANCE_INVALID');
    });

    it('refuses a statement whose signed predicate type is not its label', () => {
      const doc = structuredClone(good.attestations);
      for (const a of doc.attestations) a.predicateType = a.predicateType === SLSA_V1 ? PUBLISH_V01 : SLSA_V1;
      expect(codeOf(() => verifyNpmAttestations(input({ attestations: doc })))).toBe('PROVENANCE_INVALID');
    });

    it('refuses a publish attestation whose signature was altered', () => {
      const doc = edited(PUBLISH_V01, (b) => {
        flipLastByte(b);
      });
      expect(codeOf(() => verifyNpmAttestations(input({ attestations: doc })))).toBe('PROVENANCE_INVALID');
    });
  });

  describe('when the certificate does not say where the package was built', () => {
    it.each([
      ['no source repository (a plain keyless certificate)', { repository: undefined, workflow_ref: undefined, job_workflow_ref: undefined, ref: undefined, sha: undefined, iss: 'https://accounts.example.com' }],
      ['no build configuration (workflow) extension', { workflow_ref: undefined }],
      ['a workflow from another repository than the source', { workflow_ref: 'evil/elsewhere/.github/workflows/release.yml@refs/tags/v1.2.0' }],
      ['a control character in the ref', { ref: 'refs/tags/v1.2.0\u001b[2J' }],
    ])('refuses %s (PROVENANCE_INVALID)', async (_what, claims) => {
      const a = await makeNpmAttestations(stack, { name: NAME, version: VERSION, tarball, claims });
      expect(codeOf(() => verifyNpmAttestations(input({ attestations: a.attestations, registryKeys: a.keys })))).toBe('PROVENANCE_INVALID');
    });

    it('reports the OIDC issuer the certificate names (here not GitHub Actions)', async () => {
      const a = await makeNpmAttestations(stack, { name: NAME, version: VERSION, tarball, claims: { iss: 'https://gitlab.example.com' } });
      expect(verifyNpmAttestations(input({ attestations: a.attestations, registryKeys: a.keys })).issuer).toBe('https://gitlab.example.com');
    });
  });

  describe('the publish attestation and the registry keys', () => {
    it('refuses a publish attestation signed by a key the registry does not list', () => {
      const keys = registryKeysDocument([{ key: makeRegistryKey() }]);
      expect(codeOf(() => verifyNpmAttestations(input({ registryKeys: keys })))).toBe('PROVENANCE_KEY_UNKNOWN');
    });

    it('refuses when no registry keys are given', () => {
      expect(codeOf(() => verifyNpmAttestations(input({ registryKeys: undefined })))).toBe('PROVENANCE_KEY_UNKNOWN');
    });

    it('refuses a registry key listed under the right id with another key (wrong key)', () => {
      const wrong = { ...makeRegistryKey(), keyid: good.registryKey.keyid };
      expect(codeOf(() => verifyNpmAttestations(input({ registryKeys: registryKeysDocument([{ key: wrong }]) })))).toBe('PROVENANCE_INVALID');
    });

    it('refuses a key that expired before the attestation was logged', () => {
      const keys = registryKeysDocument([{ key: good.registryKey, expires: new Date(Date.now() - 3_600_000).toISOString() }]);
      expect(codeOf(() => verifyNpmAttestations(input({ registryKeys: keys })))).toBe('PROVENANCE_KEY_EXPIRED');
    });

    it('accepts a key that expires after the attestation was logged, even once that date has passed (as npm)', () => {
      const keys = registryKeysDocument([{ key: good.registryKey, expires: new Date(Date.now() + 3_600_000).toISOString() }]);
      expect(verifyNpmAttestations(input({ registryKeys: keys })).publishKeyId).toBe(good.registryKey.keyid);
    });

    it('refuses a version without a publish attestation, unless the caller allows it', () => {
      const doc = { attestations: good.attestations.attestations.filter((a) => a.predicateType !== PUBLISH_V01) };
      expect(codeOf(() => verifyNpmAttestations(input({ attestations: doc })))).toBe('PROVENANCE_MISSING');
      const p = verifyNpmAttestations(input({ attestations: doc, requirePublishAttestation: false }));
      expect(p.repository).toBe('github.com/acme/weather-tool');
      expect(p.publishKeyId).toBeUndefined();
    });
  });

  describe('when provenance is missing or the document is not one', () => {
    it.each([
      ['no document (404)', undefined, 'PROVENANCE_MISSING'],
      ['only a publish attestation', 'publish-only', 'PROVENANCE_MISSING'],
      ['a string', 'garbage', 'PROVENANCE_INVALID'],
      ['attestations not a list', { attestations: {} }, 'PROVENANCE_INVALID'],
      ['an entry without a bundle', { attestations: [{ predicateType: SLSA_V1 }] }, 'PROVENANCE_INVALID'],
      ['a bundle that is not one', { attestations: [{ predicateType: SLSA_V1, bundle: { mediaType: 'x' } }] }, 'PROVENANCE_INVALID'],
    ])('%s: %s', (_what, doc, code) => {
      const attestations = doc === 'publish-only' ? { attestations: good.attestations.attestations.filter((a) => a.predicateType === PUBLISH_V01) } : doc;
      expect(codeOf(() => verifyNpmAttestations(input({ attestations })))).toBe(code);
    });

    it('refuses two SLSA provenance attestations (ambiguous)', () => {
      const prov = good.attestations.attestations.find((a) => a.predicateType === SLSA_V1);
      const doc = { attestations: [...good.attestations.attestations, prov] };
      expect(codeOf(() => verifyNpmAttestations(input({ attestations: doc })))).toBe('PROVENANCE_INVALID');
    });

    it(`refuses more than ${ATTESTATION_LIMITS.attestations} attestations and a document over ${ATTESTATION_LIMITS.documentBytes} bytes before parsing them`, () => {
      const many = { attestations: Array.from({ length: ATTESTATION_LIMITS.attestations + 1 }, () => ({ predicateType: 'x', bundle: {} })) };
      expect(codeOf(() => verifyNpmAttestations(input({ attestations: many })))).toBe('PROVENANCE_INVALID');
      const big = { attestations: [{ predicateType: 'x', bundle: { pad: 'a'.repeat(ATTESTATION_LIMITS.documentBytes) } }] };
      expect(codeOf(() => verifyNpmAttestations(input({ attestations: big })))).toBe('PROVENANCE_INVALID');
    });
  });
});
