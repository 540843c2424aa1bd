/**
 * Where install and serve apply the organisation policy: the pure checks (host/policy/check.ts) turned into
 * refusals with their codes. Install calls these after verification and before consent (nothing in the
 * home has changed yet); the loader calls `assertServeAllowed` for every package at every serve start,
 * offline, so a package installed before the policy was set is refused there (the others keep serving).
 */
import { fsGrantToStrings, netGrantToStrings } from '../../runtime/index.ts';
import type { Grant } from '../../runtime/index.ts';
import { HostError } from '../errors.ts';
import type { PackageManifest } from '../manifest.ts';
import { atLeastMedium, checkDefinitions, describeFindings } from '../trust/definitions/checks.ts';
import type { DefinitionFinding } from '../trust/definitions/checks.ts';
import { checkCapabilities, checkPackage, strictDefinitions } from './check.ts';
import type { PackageFacts, PolicyRefusal } from './check.ts';
import type { OrgPolicy } from './parse.ts';

/** The names of the secrets a manifest declares. */
export function declaredSecrets(pm: PackageManifest): string[] {
  return Object.keys(pm.manifest.capabilities.secrets ?? {});
}

/** Refuses with the first refusal of any policy (its code, its file). @throws HostError POLICY_* */
export function assertAllowed(policy: OrgPolicy, facts: PackageFacts, label: string = facts.name): void {
  const first = checkPackage(policy, facts)[0];
  if (first) throw new HostError(first.code, `${label}: ${first.detail} (policy ${first.source})`);
}

/**
 * The policy's strict mode: findings of severity medium or high refuse the package, whatever config.json
 * (trust.strictDefinitions: false) and --accept-findings say. Null: allowed. Pure.
 */
export function definitionsRefusal(policy: OrgPolicy, findings: readonly DefinitionFinding[]): PolicyRefusal | null {
  const layer = policy.layers.find((l) => l.strictDefinitions);
  const serious = findings.filter(atLeastMedium);
  if (!layer || serious.length === 0) return null;
  const list = describeFindings(serious.slice(0, 8)).trimEnd().replace(/\n\s*/g, '; ');
  return { code: 'POLICY_DEFINITIONS_REFUSED', detail: `the organisation policy's strict mode refuses its definitions: ${list}`, source: layer.source };
}

/** @throws HostError POLICY_DEFINITIONS_REFUSED (see definitionsRefusal) */
export function assertDefinitionsAllowed(policy: OrgPolicy, pm: PackageManifest, findings: readonly DefinitionFinding[], label = `${pm.name}@${pm.version}`): void {
  const r = definitionsRefusal(policy, findings);
  if (r) throw new HostError(r.code, `${label}: ${r.detail} (policy ${r.source})`);
}

/**
 * At serve: the loaded package (its effective grant, the signer and digest recorded at install) against
 * the policy. `entry` is undefined for a --dev package (unsigned). @throws HostError POLICY_*
 */
export function assertServeAllowed(policy: OrgPolicy, entry: { readonly signer: string; readonly integrity: string } | undefined, pm: PackageManifest, grant: Grant, label: string): void {
  if (policy.layers.length === 0) return;
  assertAllowed(policy, { name: pm.name, ...(entry ? { signer: entry.signer, integrity: entry.integrity } : {}), grant: { net: netGrantToStrings(grant.net), fs: fsGrantToStrings(grant.fs) }, secrets: declaredSecrets(pm) }, label);
  // Shadowing needs the other packages; the rest of the definition checks need only this one.
  assertDefinitionsAllowed(policy, pm, strictDefinitions(policy) ? checkDefinitions(pm.manifest) : [], label);
}

/**
 * The ceiling check of capabilities asked at first use (host/serve/consent/store.ts): a rule the user is
 * about to allow, once or for good, must be within every policy's ceilings. Pure over the loaded policy.
 */
export function policyCeiling(policy: OrgPolicy): (name: string, added: { readonly net: readonly string[]; readonly fs: readonly string[] }) => { readonly allowed: true } | { readonly allowed: false; readonly message: string } {
  return (name, added) => {
    const refusals = policy.layers.flatMap((layer) => checkCapabilities(layer, { name, grant: added }));
    const first = refusals[0];
    return first === undefined ? { allowed: true } : { allowed: false, message: `${first.code}: ${first.detail} (${first.source})` };
  };
}
