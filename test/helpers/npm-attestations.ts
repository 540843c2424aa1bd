/**
 * npm attestations as the public registry serves them (GET /-/npm/v1/attestations/NAME@VERSION and
 * GET /-/npm/v1/keys), made for real by the local Sigstore stack: an SLSA provenance v1 statement signed
 * keylessly (Fulcio certificate with GitHub Actions extensions, Rekor entry) and a publish attestation
 * signed by a registry key (Rekor entry), both over `pkg:npm/NAME@VERSION` with the tarball's sha512.
 *
 * The mock Fulcio sets the GitHub extensions from the token's claims (repository, ref, sha, workflow_ref,
 * job_workflow_ref, runner_environment), always under https://github.com: `repository` must be
 * "github.com/OWNER/REPO".
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { bundleToJSON } from '@sigstore/bundle';
import type { SerializedBundle } from '@sigstore/bundle';
import { DSSEBundleBuilder, FulcioSigner, RekorWitness } from '@sigstore/sign';
import type { Signer } from '@sigstore/sign';
import { sign as cryptoSign } from 'node:crypto';
import type { SigstoreStack } from './sigstore-stack.ts';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const SLSA_V1 = 'https://slsa.dev/provenance/v1';
export const PUBLISH_V01 = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1';
const IN_TOTO = 'application/vnd.in-toto+json';

export interface RegistryKeyPair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  /** An opaque key id in the style of npm's ("SHA256:" + unpadded base64 of the SHA-256 of the SPKI DER). */
  readonly keyid: string;
}

/** A registry signing key (ECDSA P-256), with its npm key id. */
export function makeRegistryKey(): RegistryKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { publicKey, privateKey, keyid: `SHA256:${createHash('sha256').update(der).digest('base64').replace(/=+$/u, '')}` };
}

/** One registry key per test process unless a test brings its own: a registry signs every version with the same key. */
let defaultKey: RegistryKeyPair | undefined;

/** The body of GET /-/npm/v1/keys for these keys. */
export function registryKeysDocument(keys: readonly { key: RegistryKeyPair; expires?: string | null }[]): { keys: object[] } {
  return {
    keys: keys.map(({ key, expires }) => ({
      expires: expires ?? null,
      keyid: key.keyid,
      keytype: 'ecdsa-sha2-nistp256',
      scheme: 'ecdsa-sha2-nistp256',
      key: key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    })),
  };
}

/** The purl npm signs: the scope's "@" percent-encoded. */
export function npmSubjectName(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/u, '%40')}@${version}`;
}

/** An unsigned GitHub Actions-like OIDC token: the mock Fulcio turns its claims into certificate extensions. */
function githubToken(o: { issuer: string; repo: string; workflow: string; ref: string; commit: string; claims?: Readonly<Record<string, unknown>> }): string {
  const b64 = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const workflowRef = `${o.repo}/${o.workflow}@${o.ref}`;
  const claims = {
    iss: o.issuer,
    sub: `https://github.com/${workflowRef}`,
    aud: 'sigstore',
    iat: now,
    exp: now + 600,
    repository: o.repo,
    repository_owner: o.repo.split('/')[0],
    ref: o.ref,
    sha: o.commit,
    event_name: 'push',
    workflow_ref: workflowRef,
    job_workflow_ref: workflowRef,
    runner_environment: 'github-hosted',
    ...o.claims,
  };
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
}

function statement(subject: { name: string; sha512: string }, predicateType: string, predicate: object, type = 'https://in-toto.io/Statement/v1'): Buffer {
  return Buffer.from(JSON.stringify({ _type: type, subject: [{ name: subject.name, digest: { sha512: subject.sha512 } }], predicateType, predicate }));
}

export interface NpmAttestationOptions {
  readonly name: string;
  readonly version: string;
  readonly tarball: Buffer;
  /** "github.com/OWNER/REPO" (default github.com/acme/weather-tool). */
  readonly repository?: string;
  /** Default .github/workflows/release.yml. */
  readonly workflow?: string;
  /** Default refs/tags/v<version>. */
  readonly ref?: string;
  /** Default 40 hex digits derived from name and version. */
  readonly commit?: string;
  /** Default GitHub Actions' issuer. */
  readonly issuer?: string;
  /** The registry's signing key (default: one per test process). */
  readonly registryKey?: RegistryKeyPair;
  /**
   * OIDC token claims over the GitHub-like defaults (the mock Fulcio turns them into certificate
   * extensions); a claim set to undefined is left out, e.g. `{ repository: undefined }` for a
   * certificate without source repository extensions.
   */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Sign these subjects instead of the tarball's (a test of a replayed or mismatched attestation). */
  readonly subject?: { readonly name?: string; readonly sha512?: string };
}

export interface NpmAttestations {
  /** The body of GET /-/npm/v1/attestations/NAME@VERSION. */
  readonly attestations: { attestations: { predicateType: string; bundle: SerializedBundle }[] };
  /** The body of GET /-/npm/v1/keys. */
  readonly keys: { keys: object[] };
  readonly registryKey: RegistryKeyPair;
  /** The tarball's SRI sha512. */
  readonly integrity: string;
}

/** Real npm attestations for a tarball, signed by the local stack (see the module comment). */
export async function makeNpmAttestations(stack: SigstoreStack, o: NpmAttestationOptions): Promise<NpmAttestations> {
  const repository = o.repository ?? 'github.com/acme/weather-tool';
  if (!repository.startsWith('github.com/')) throw new Error('the mock Fulcio only issues github.com repositories');
  const repo = repository.slice('github.com/'.length);
  const workflow = o.workflow ?? '.github/workflows/release.yml';
  const ref = o.ref ?? `refs/tags/v${o.version}`;
  const commit = o.commit ?? createHash('sha1').update(`${o.name}@${o.version}`).digest('hex');
  const issuer = o.issuer ?? GITHUB_ISSUER;
  const registryKey = o.registryKey ?? (defaultKey ??= makeRegistryKey());
  const digest = createHash('sha512').update(o.tarball).digest();
  const subject = { name: o.subject?.name ?? npmSubjectName(o.name, o.version), sha512: o.subject?.sha512 ?? digest.toString('hex') };

  const rekor = (): RekorWitness => new RekorWitness({ rekorBaseURL: stack.url, entryType: 'dsse', timeout: 10_000, retry: 0 });
  const provenancePayload = statement(subject, SLSA_V1, {
    buildDefinition: {
      buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
      externalParameters: { workflow: { ref, repository: `https://${repository}`, path: workflow } },
      internalParameters: { github: { event_name: 'push', runner_environment: 'github-hosted' } },
      resolvedDependencies: [{ uri: `git+https://${repository}@${ref}`, digest: { gitCommit: commit } }],
    },
    runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' }, metadata: { invocationId: `https://${repository}/actions/runs/1/attempts/1` } },
  });
  const keyless = new DSSEBundleBuilder({
    signer: new FulcioSigner({
      identityProvider: { getToken: () => Promise.resolve(githubToken({ issuer, repo, workflow, ref, commit, ...(o.claims ? { claims: o.claims } : {}) })) },
      fulcioBaseURL: stack.url,
      timeout: 10_000,
      retry: 0,
    }),
    witnesses: [rekor()],
  });
  const provenance = bundleToJSON(await keyless.create({ data: provenancePayload, type: IN_TOTO }));

  const registrySigner: Signer = {
    sign: (data: Buffer) =>
      Promise.resolve({
        signature: cryptoSign('sha256', data, registryKey.privateKey),
        key: { $case: 'publicKey', publicKey: registryKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(), hint: registryKey.keyid },
      }),
  };
  const publishPayload = statement(subject, PUBLISH_V01, { name: o.name, version: o.version, registry: 'https://registry.npmjs.org' }, 'https://in-toto.io/Statement/v0.1');
  const publish = bundleToJSON(await new DSSEBundleBuilder({ signer: registrySigner, witnesses: [rekor()] }).create({ data: publishPayload, type: IN_TOTO }));

  return {
    attestations: {
      attestations: [
        { predicateType: PUBLISH_V01, bundle: publish },
        { predicateType: SLSA_V1, bundle: provenance },
      ],
    },
    keys: registryKeysDocument([{ key: registryKey }]),
    registryKey,
    integrity: `sha512-${digest.toString('base64')}`,
  };
}
