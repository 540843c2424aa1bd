/**
 * What an npm provenance attestation proves about a package: the source repository, workflow, ref and
 * commit that built it and the OIDC issuer that vouched for that CI job, read from the Fulcio signing
 * certificate's extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md).
 *
 * Threat: only the certificate is evidence. The SLSA predicate inside the statement is written by the
 * workflow itself and could claim any repository; the certificate's extensions are set by Fulcio from
 * the CI's signed OIDC token. Nothing here reads the predicate. Values are read only from a certificate
 * whose chain, log entry and signature already verified (verify.ts); each is bounded and must be
 * printable, so a crafted extension cannot smuggle control characters into a consent screen or lock.json.
 */
import { ASN1Obj, X509Certificate } from '@sigstore/core';
import { HostError } from '../errors.ts';

/** The provenance of an npm package, as verified (DESIGN11 "Provenance verification"). */
export interface NpmProvenance {
  /** "github.com/acme/weather-tool": the Source Repository URI extension, host and path, no scheme. */
  readonly repository: string;
  /** ".github/workflows/release.yml": the Build Config URI's path inside the repository, before "@". */
  readonly workflow: string;
  /** "refs/tags/v1.2.0": the Source Repository Ref extension. */
  readonly ref: string;
  /** The Source Repository Digest extension (hex commit id). */
  readonly commit: string;
  /** The OIDC issuer extension (v2 1.3.6.1.4.1.57264.1.8, else v1 .1.1). */
  readonly issuer: string;
  /** The Build Signer URI extension (the CI job's workflow; the certificate identity on older certificates). */
  readonly builder: string;
  /** The provenance bundle's transparency-log entry. */
  readonly transparencyLog: { readonly logIndex: string; readonly integratedTime?: string };
  /** The registry key id that signed the publish attestation, when one was verified. */
  readonly publishKeyId?: string;
}

/** The signer of an npm package by provenance, as recorded in a signer id (host/install/signer.ts). */
export interface ProvenanceSigner {
  readonly kind: 'provenance';
  readonly issuer: string;
  readonly repository: string;
  readonly workflow: string;
  readonly ref: string;
}

/** GitHub Actions' OIDC issuer: the default of `trust add-provenance`. */
export const GITHUB_ACTIONS_ISSUER = 'https://token.actions.githubusercontent.com';

/** Fulcio certificate extensions (1.3.6.1.4.1.57264.1.*). The v1 ones hold raw bytes, the others a DER UTF8String. */
export const FULCIO_OID = {
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  githubWorkflowSha: '1.3.6.1.4.1.57264.1.3',
  githubWorkflowRepository: '1.3.6.1.4.1.57264.1.5',
  githubWorkflowRef: '1.3.6.1.4.1.57264.1.6',
  issuerV2: '1.3.6.1.4.1.57264.1.8',
  buildSignerUri: '1.3.6.1.4.1.57264.1.9',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryUri: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  buildConfigUri: '1.3.6.1.4.1.57264.1.18',
} as const;

const LEGACY = new Set<string>([FULCIO_OID.issuerV1, FULCIO_OID.githubWorkflowSha, FULCIO_OID.githubWorkflowRepository, FULCIO_OID.githubWorkflowRef]);
const MAX_VALUE = 1024;
// Printable and no whitespace at all: every value here is a URL, a path, a ref or a digest.
const PRINTABLE = /^[\x21-\x7e]+$/u;

function invalid(message: string): HostError {
  return new HostError('PROVENANCE_INVALID', `provenance certificate: ${message}`);
}

/** The value of one Fulcio extension, or undefined when the certificate does not carry it. */
function extensionValue(cert: X509Certificate, oid: string): string | undefined {
  const ext = cert.extension(oid);
  if (!ext) return undefined;
  let bytes: Buffer;
  if (LEGACY.has(oid)) {
    bytes = ext.value;
  } else {
    let obj: ASN1Obj;
    try {
      obj = ASN1Obj.parseBuffer(Buffer.from(ext.value));
    } catch {
      throw invalid(`extension ${oid} is not DER`);
    }
    if (obj.tag.number !== 0x0c || obj.tag.constructed) throw invalid(`extension ${oid} is not a UTF8String`);
    bytes = obj.value;
  }
  const text = bytes.toString('utf8');
  if (text.length === 0 || text.length > MAX_VALUE || !PRINTABLE.test(text)) throw invalid(`extension ${oid} is empty, too long or not printable`);
  return text;
}

/** "https://github.com/acme/tool" → "github.com/acme/tool". @throws HostError PROVENANCE_INVALID */
function repositoryOf(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw invalid('the source repository is not a URL');
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash || url.port) throw invalid('the source repository is not a plain https URL');
  const path = url.pathname.replace(/\/+$/u, '');
  if (path.length < 2) throw invalid('the source repository URL has no path');
  return `${url.host}${path}`;
}

/**
 * The workflow file of a build config URI: "https://github.com/acme/tool/.github/workflows/release.yml@refs/tags/v1"
 * with repository "https://github.com/acme/tool" and ref "refs/tags/v1" → ".github/workflows/release.yml".
 * GitLab's form has a double slash ("…/project//.gitlab-ci.yml@…"). @throws HostError PROVENANCE_INVALID
 */
function workflowOf(configUri: string, repositoryUri: string, ref: string): string {
  const prefix = `${repositoryUri.replace(/\/+$/u, '')}/`;
  if (!configUri.startsWith(prefix)) throw invalid('the build configuration is not in the source repository');
  const rest = configUri.slice(prefix.length).replace(/^\/+/u, '');
  const at = rest.endsWith(`@${ref}`) ? rest.length - ref.length - 1 : rest.lastIndexOf('@');
  const workflow = at === -1 ? rest : rest.slice(0, at);
  if (!workflow || workflow.split('/').some((s) => s === '' || s === '.' || s === '..')) throw invalid('the build configuration names no workflow file');
  return workflow;
}

/**
 * The provenance facts of a verified Fulcio leaf certificate (DER). Certificates issued before Fulcio's
 * v2 extensions (early 2023) carry only the GitHub-specific v1 ones: then the repository is
 * "github.com/" + the workflow repository, the workflow is read from the certificate identity (the
 * workflow URL), and the builder is that identity.
 * @throws HostError PROVENANCE_INVALID when an extension needed is missing or malformed
 */
export function certificateProvenance(der: Uint8Array, san: string | undefined): Omit<NpmProvenance, 'transparencyLog' | 'publishKeyId'> {
  let cert: X509Certificate;
  try {
    cert = X509Certificate.parse(Buffer.from(der));
  } catch {
    throw invalid('cannot be parsed');
  }
  const get = (oid: string): string | undefined => extensionValue(cert, oid);
  const issuer = get(FULCIO_OID.issuerV2) ?? get(FULCIO_OID.issuerV1);
  if (!issuer) throw invalid('names no OIDC issuer');
  const sourceUri = get(FULCIO_OID.sourceRepositoryUri);
  if (sourceUri !== undefined) {
    const ref = get(FULCIO_OID.sourceRepositoryRef);
    const commit = get(FULCIO_OID.sourceRepositoryDigest);
    const config = get(FULCIO_OID.buildConfigUri);
    if (!ref || !commit || !config) throw invalid('lacks the source ref, source digest or build config extension');
    const builder = get(FULCIO_OID.buildSignerUri) ?? get(FULCIO_OID.runnerEnvironment) ?? san;
    if (!builder) throw invalid('names no builder');
    return { repository: repositoryOf(sourceUri), workflow: workflowOf(config, sourceUri, ref), ref, commit, issuer, builder };
  }
  // A certificate from before the v2 extensions: GitHub Actions only.
  const repo = get(FULCIO_OID.githubWorkflowRepository);
  const ref = get(FULCIO_OID.githubWorkflowRef);
  const commit = get(FULCIO_OID.githubWorkflowSha);
  if (issuer !== GITHUB_ACTIONS_ISSUER || !repo || !ref || !commit || !san) throw invalid('names no source repository');
  const repositoryUri = `https://github.com/${repo}`;
  return { repository: repositoryOf(repositoryUri), workflow: workflowOf(san, repositoryUri, ref), ref, commit, issuer, builder: san };
}

/** The signer id parts of a verified provenance. */
export function provenanceSigner(p: Pick<NpmProvenance, 'issuer' | 'repository' | 'workflow' | 'ref'>): ProvenanceSigner {
  return { kind: 'provenance', issuer: p.issuer, repository: p.repository, workflow: p.workflow, ref: p.ref };
}

/**
 * Whether two provenance signers are the same source for the no-downgrade-of-trust rule: same issuer,
 * repository and workflow. The ref is not compared: every release is built from a new tag.
 */
export function sameProvenanceSource(a: Omit<ProvenanceSigner, 'kind' | 'ref'>, b: Omit<ProvenanceSigner, 'kind' | 'ref'>): boolean {
  return a.issuer === b.issuer && a.repository === b.repository && a.workflow === b.workflow;
}
