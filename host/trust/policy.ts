/**
 * The home's trust policy (<home>/trust.json): which publishers the user trusts, each a pinned public
 * key, a keyless identity (exact certificate identity + OIDC issuer), or an npm provenance source
 * (repository + OIDC issuer exactly, workflow file and git ref exactly or by a glob the user wrote),
 * optionally limited to a scope of package names. Plain data; `findTrustedSigner` and
 * `findProvenancePublisher` are pure functions over it.
 *
 * Threat: a publisher trusted for "@acme/*" must not be able to publish "@acme-evil/x", "@acmex/y" or
 * an unscoped "acme" package. Scopes are parsed once and matched by whole segments, never by prefix;
 * the only wildcard is a whole package name under an npm scope. No scope means every package: the user
 * said so explicitly when adding the publisher.
 */
import { dirname } from 'node:path';
import { HostError } from '../errors.ts';
import { atomicWrite, makeDirectory, readJsonFile } from '../home/files.ts';
import { assertSafe } from '../home/modes.ts';
import { strictValidator } from '../home/precompiled.ts';
import { describeAjvError } from '../serve/validation.ts';
import trustSchemaJson from './trust.schema.json' with { type: 'json' };
import { keyIdOf, parsePublicKeyPem, publicKeyPem } from '../signing/keys.ts';
import type { VerifiedSigner } from '../signing/verify.ts';
import type { NpmProvenance, ProvenanceSigner } from '../provenance/facts.ts';
import { globMatches, parseIssuerRule, parseRefRule, parseRepositoryRule, parseWorkflowRule } from '../provenance/rules.ts';

export type Publisher =
  | { readonly name: string; readonly kind: 'key'; readonly publicKeyPem: string; readonly keyId: string; readonly scope?: readonly string[] }
  | { readonly name: string; readonly kind: 'identity'; readonly identity: string; readonly issuer: string; readonly scope?: readonly string[] }
  | {
      readonly name: string;
      readonly kind: 'provenance';
      /** "github.com/acme/weather-tool", compared exactly. */
      readonly repository: string;
      /** ".github/workflows/release.yml" or a glob; absent: any workflow of the repository. */
      readonly workflow?: string;
      /** "refs/tags/*", "refs/heads/main"; absent: any ref. */
      readonly ref?: string;
      readonly issuer: string;
      readonly scope?: readonly string[];
    };

export interface TrustPolicy {
  readonly publishers: readonly Publisher[];
}

export type TrustDecision =
  | { readonly trusted: true; readonly publisher: Publisher }
  | {
      readonly trusted: false;
      readonly code: 'UNTRUSTED_SIGNER' | 'SIGNER_OUT_OF_SCOPE' | 'PROVENANCE_UNTRUSTED' | 'ISSUER_MISMATCH' | 'PROVENANCE_WORKFLOW_MISMATCH' | 'PROVENANCE_REF_MISMATCH';
      readonly detail: string;
    };

export const EMPTY_TRUST_POLICY: TrustPolicy = Object.freeze({ publishers: Object.freeze([]) });

const SEGMENT = '[a-z0-9][a-z0-9._-]*';
const SCOPE_RULE = new RegExp(`^(?:@(${SEGMENT})/(${SEGMENT}|\\*)|(${SEGMENT}))$`);
// Printable, not starting with "-" (it would read as a flag): identities such as workflow URLs are valid names.
// eslint-disable-next-line no-control-regex -- control characters are what the expression excludes
const PUBLISHER_NAME = /^(?!-)[^\u0000-\u001f\u007f]{1,256}$/;

function trustInvalid(message: string): HostError {
  return new HostError('TRUST_INVALID', message);
}

/**
 * Validates a scope rule: an exact package name ("@acme/tool", "tool") or every package of one npm
 * scope ("@acme/*"). @throws HostError USAGE
 */
export function parseScope(rule: string): string {
  if (!SCOPE_RULE.test(rule)) {
    throw new HostError('USAGE', `invalid scope ${JSON.stringify(rule.slice(0, 100))}: use an exact package name or "@scope/*"`);
  }
  return rule;
}

/** Whether a package name falls under a (valid) scope rule; whole segments only. */
export function scopeMatches(rule: string, packageName: string): boolean {
  const m = SCOPE_RULE.exec(rule);
  if (!m) return false;
  if (m[3] !== undefined) return packageName === m[3];
  if (m[2] === '*') {
    const slash = packageName.indexOf('/');
    if (slash === -1 || packageName.indexOf('/', slash + 1) !== -1) return false;
    return packageName.slice(0, slash) === `@${m[1]}` && new RegExp(`^${SEGMENT}$`).test(packageName.slice(slash + 1));
  }
  return packageName === rule;
}

function signerMatches(p: Publisher, signer: VerifiedSigner): boolean {
  if (p.kind === 'key') return signer.kind === 'key' && signer.keyId === p.keyId;
  if (p.kind === 'identity') return signer.kind === 'identity' && signer.identity === p.identity && signer.issuer === p.issuer;
  return false;
}

function inScope(p: Publisher, packageName: string): boolean {
  return p.scope === undefined || p.scope.some((rule) => scopeMatches(rule, packageName));
}

function outOfScope(matching: readonly Publisher[], packageName: string): TrustDecision {
  const scopes = matching.flatMap((p) => p.scope ?? []).join(', ');
  return { trusted: false, code: 'SIGNER_OUT_OF_SCOPE', detail: `publisher ${matching[0]?.name ?? ''} may sign ${scopes}, not ${packageName}` };
}

/**
 * The provenance publisher that vouches for a package built from `provenance`, or the most precise
 * reason none does: the repository is not trusted (PROVENANCE_UNTRUSTED), only from another issuer
 * (ISSUER_MISMATCH), only for another workflow (PROVENANCE_WORKFLOW_MISMATCH) or ref
 * (PROVENANCE_REF_MISMATCH), or not for this package name (SIGNER_OUT_OF_SCOPE). Pure.
 */
export function findProvenancePublisher(policy: TrustPolicy, provenance: Pick<NpmProvenance, 'issuer' | 'repository' | 'workflow' | 'ref'>, packageName: string): TrustDecision {
  const built = `${provenance.repository} (${provenance.workflow} at ${provenance.ref})`;
  const repo = policy.publishers.filter((p): p is Extract<Publisher, { kind: 'provenance' }> => p.kind === 'provenance' && p.repository === provenance.repository);
  if (repo.length === 0) return { trusted: false, code: 'PROVENANCE_UNTRUSTED', detail: `built by ${built}: no trusted provenance publisher names the repository ${provenance.repository}` };
  const issuer = repo.filter((p) => p.issuer === provenance.issuer);
  if (issuer.length === 0) return { trusted: false, code: 'ISSUER_MISMATCH', detail: `${provenance.repository} is trusted only from the OIDC issuer ${repo[0]?.issuer ?? ''}, not ${provenance.issuer}` };
  const workflow = issuer.filter((p) => p.workflow === undefined || globMatches(p.workflow, provenance.workflow));
  if (workflow.length === 0) return { trusted: false, code: 'PROVENANCE_WORKFLOW_MISMATCH', detail: `built by ${built}: ${provenance.repository} is trusted only for the workflow ${issuer.map((p) => p.workflow ?? '').join(', ')}` };
  const ref = workflow.filter((p) => p.ref === undefined || globMatches(p.ref, provenance.ref));
  if (ref.length === 0) return { trusted: false, code: 'PROVENANCE_REF_MISMATCH', detail: `built by ${built}: ${provenance.repository} is trusted only for the ref ${workflow.map((p) => p.ref ?? '').join(', ')}` };
  const found = ref.find((p) => inScope(p, packageName));
  return found ? { trusted: true, publisher: found } : outOfScope(ref, packageName);
}

function describeSigner(signer: VerifiedSigner): string {
  return signer.kind === 'key' ? `key ${signer.keyId}` : `${signer.identity} (issuer ${signer.issuer})`;
}

/**
 * The publisher that vouches for `signer` on `packageName`, or why none does. Pure.
 * Identity and issuer are compared exactly; key publishers by key id; a provenance signer (a recorded
 * lock entry's) by `findProvenancePublisher`.
 */
export function findTrustedSigner(policy: TrustPolicy, signer: VerifiedSigner | ProvenanceSigner, packageName: string): TrustDecision {
  if (signer.kind === 'provenance') return findProvenancePublisher(policy, signer, packageName);
  const matching = policy.publishers.filter((p) => signerMatches(p, signer));
  if (matching.length === 0) return { trusted: false, code: 'UNTRUSTED_SIGNER', detail: `${describeSigner(signer)} is not a trusted publisher` };
  const found = matching.find((p) => inScope(p, packageName));
  return found ? { trusted: true, publisher: found } : outOfScope(matching, packageName);
}

/** Validates one publisher entry (from trust.json or the CLI). @throws HostError TRUST_INVALID */
export function parsePublisher(raw: unknown): Publisher {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw trustInvalid('a publisher must be an object');
  const r = raw as Record<string, unknown>;
  if (typeof r.name !== 'string' || !PUBLISHER_NAME.test(r.name)) throw trustInvalid('a publisher needs a name: 1 to 256 printable characters, not starting with "-"');
  let scope: string[] | undefined;
  if (r.scope !== undefined) {
    if (!Array.isArray(r.scope) || r.scope.length === 0 || !r.scope.every((s) => typeof s === 'string')) throw trustInvalid(`publisher ${r.name}: scope must be a non-empty list`);
    try {
      scope = (r.scope as string[]).map(parseScope);
    } catch (e) {
      throw trustInvalid(`publisher ${r.name}: ${(e as Error).message}`);
    }
  }
  const withScope = scope ? { scope } : {};
  if (r.kind === 'key') {
    if (typeof r.publicKeyPem !== 'string') throw trustInvalid(`publisher ${r.name}: publicKeyPem is missing`);
    let key;
    try {
      key = parsePublicKeyPem(r.publicKeyPem);
    } catch {
      throw trustInvalid(`publisher ${r.name}: publicKeyPem is not an ECDSA P-256 public key`);
    }
    const keyId = keyIdOf(key);
    // The key id is derived, never trusted from the file: an edited id must not re-point a trusted name.
    if (r.keyId !== undefined && r.keyId !== keyId) throw trustInvalid(`publisher ${r.name}: keyId does not match publicKeyPem`);
    return { name: r.name, kind: 'key', publicKeyPem: publicKeyPem(key), keyId, ...withScope };
  }
  if (r.kind === 'identity') {
    if (typeof r.identity !== 'string' || r.identity.length === 0 || r.identity.length > 1024) throw trustInvalid(`publisher ${r.name}: identity is missing`);
    if (typeof r.issuer !== 'string' || r.issuer.length === 0 || r.issuer.length > 1024) throw trustInvalid(`publisher ${r.name}: issuer is missing`);
    return { name: r.name, kind: 'identity', identity: r.identity, issuer: r.issuer, ...withScope };
  }
  if (r.kind === 'provenance') {
    const rule = (field: string, parse: (text: string) => string, optional: boolean): string | undefined => {
      const v = r[field];
      if (v === undefined && optional) return undefined;
      if (typeof v !== 'string') throw trustInvalid(`publisher ${r.name as string}: ${field} is missing`);
      try {
        return parse(v);
      } catch (e) {
        throw trustInvalid(`publisher ${r.name as string}: ${(e as Error).message}`);
      }
    };
    const repository = rule('repository', parseRepositoryRule, false) as string;
    const issuer = rule('issuer', parseIssuerRule, false) as string;
    const workflow = rule('workflow', parseWorkflowRule, true);
    const ref = rule('ref', parseRefRule, true);
    return { name: r.name, kind: 'provenance', repository, ...(workflow ? { workflow } : {}), ...(ref ? { ref } : {}), issuer, ...withScope };
  }
  throw trustInvalid(`publisher ${r.name}: kind must be "key", "identity" or "provenance"`);
}

/** Validates a whole policy document. @throws HostError TRUST_INVALID */
export function parseTrustPolicy(json: unknown): TrustPolicy {
  const pubs = (json as { publishers?: unknown } | null)?.publishers;
  if (!Array.isArray(pubs)) throw trustInvalid('trust.json must be { "publishers": [...] }');
  const publishers = pubs.map(parsePublisher);
  const names = new Set<string>();
  for (const p of publishers) {
    if (names.has(p.name)) throw trustInvalid(`publisher name ${p.name} appears twice`);
    names.add(p.name);
  }
  return { publishers };
}

// Precompiled at build time (scripts/compile-validators.ts); compiled on first use where it is not.
const trustValidator = strictValidator(trustSchemaJson as object, new URL('./trust.validate.cjs', import.meta.url));

/** The published JSON Schema of trust.json. */
export function trustSchema(): unknown {
  return structuredClone(trustSchemaJson);
}

/**
 * Reads trust.json; a missing file is an empty policy (trust nothing). The file and its directory must be
 * the user's and writable by nobody else, and it must match the published schema.
 * @throws HostError HOME_UNSAFE, TRUST_INVALID
 */
export async function loadTrustPolicy(file: string): Promise<TrustPolicy> {
  await assertSafe(dirname(file));
  await assertSafe(file);
  const json = await readJsonFile(file, (why) => trustInvalid(why === 'not-json' ? 'trust.json is not valid JSON' : 'trust.json cannot be read'));
  if (json === undefined) return EMPTY_TRUST_POLICY;
  const validateTrust = trustValidator();
  if (!validateTrust(json)) throw trustInvalid(`trust.json does not match its schema: ${describeAjvError(validateTrust.errors, 'trust')}`);
  return parseTrustPolicy(json);
}

/** Writes trust.json atomically (host/home/files.ts), mode 0600. */
export async function saveTrustPolicy(file: string, policy: TrustPolicy): Promise<void> {
  const checked = parseTrustPolicy(policy);
  await makeDirectory(dirname(file), 0o700);
  await atomicWrite(file, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o600 });
}

/** The policy with `publisher` added. @throws HostError USAGE when the name is taken */
export function addPublisher(policy: TrustPolicy, publisher: Publisher): TrustPolicy {
  if (policy.publishers.some((p) => p.name === publisher.name)) throw new HostError('USAGE', `a publisher named ${publisher.name} is already trusted (remove it first)`);
  return { publishers: [...policy.publishers, publisher] };
}

/** The policy without the publisher `name`. @throws HostError USAGE when there is none */
export function removePublisher(policy: TrustPolicy, name: string): TrustPolicy {
  if (!policy.publishers.some((p) => p.name === name)) throw new HostError('USAGE', `no trusted publisher named ${name}`);
  return { publishers: policy.publishers.filter((p) => p.name !== name) };
}
