/**
 * The organisation policy's checks: pure functions over a parsed policy (host/policy/parse.ts) and the facts
 * of one package (its name, recorded signer, tarball digest, grant, declared secrets). No I/O.
 *
 * Combination: several policies (system-wide, --policy, $MCP_WARDEN_POLICY) are checked one by one and a
 * package passes only if every one of them allows it, so an extra file can only add restrictions; limits
 * are the smallest any of them sets. The user's trust.json and config.json are applied before and can
 * only narrow further: the policy never widens what the user allowed, and the user cannot widen the policy.
 */
import { DEFAULT_LIMITS, intersectNetGrants, isWithin, netRuleToString, parseFsRule, parseNetRule } from '../../runtime/index.ts';
import type { Limits } from '../../runtime/index.ts';
import { scopeMatches } from '../trust/policy.ts';
import { parseSignerId } from '../install/signer.ts';
import type { RecordedSigner } from '../install/signer.ts';
import type { OrgPolicy, PolicyLayer, PolicySigner } from './parse.ts';

export type PolicyCode = 'POLICY_SIGNER_NOT_ALLOWED' | 'POLICY_PACKAGE_BLOCKED' | 'POLICY_CAPABILITY_DENIED' | 'POLICY_DEFINITIONS_REFUSED';

export interface PolicyRefusal {
  readonly code: PolicyCode;
  readonly detail: string;
  /** The policy file that refuses. */
  readonly source: string;
}

/** What the policy is checked against. Absent fields are not checked (e.g. the grant before it is planned). */
export interface PackageFacts {
  readonly name: string;
  /** The signer id as lock.json records it (host/install/signer.ts); undefined: unsigned (--dev). */
  readonly signer?: string;
  /** SRI sha512 of the tarball; undefined for a --dev package. */
  readonly integrity?: string;
  /** The granted rules: net in the net grammar, fs as "read:/path" / "write:/path". */
  readonly grant?: { readonly net: readonly string[]; readonly fs: readonly string[] };
  /** The names of the secrets the manifest declares. */
  readonly secrets?: readonly string[];
}

/** A recorded signer id, parsed for matching (host/install/signer.ts, the inverse of signerId). */
export type SignerFacts = RecordedSigner;
export { parseSignerId as parseRecordedSigner };

/** Whether the policy entry names this signer. Exact comparisons only: no patterns, no prefixes. */
export function signerMatches(p: PolicySigner, s: SignerFacts): boolean {
  if (p.kind === 'key') return s.kind === 'key' && s.keyId === p.keyId;
  if (p.kind === 'identity') return s.kind === 'identity' && s.identity === p.identity && s.issuer === p.issuer;
  return s.kind === 'provenance' && s.repository === p.repository && s.issuer === p.issuer && (p.workflow === undefined || s.workflow === p.workflow);
}

function labelOf(p: PolicySigner): string {
  if (p.name) return p.name;
  if (p.kind === 'key') return `key ${p.keyId.slice(0, 16)}…`;
  if (p.kind === 'identity') return p.identity;
  return p.repository;
}

function describeSigner(id: string | undefined): string {
  if (id === undefined) return 'an unsigned (--dev) package';
  const s = parseSignerId(id);
  if (!s) return `signer ${id.slice(0, 120)}`;
  if (s.kind === 'key') return `key ${s.keyId}`;
  if (s.kind === 'identity') return `${s.identity} (issuer ${s.issuer})`;
  return `provenance ${s.repository} ${s.workflow} (issuer ${s.issuer})`;
}

/** The layer's signer allow list applied to one package; null when it allows it (or has no list). */
export function checkSigner(layer: PolicyLayer, facts: PackageFacts): PolicyRefusal | null {
  if (layer.signers === undefined) return null;
  const refuse = (detail: string): PolicyRefusal => ({ code: 'POLICY_SIGNER_NOT_ALLOWED', detail, source: layer.source });
  const signer = facts.signer === undefined ? undefined : parseSignerId(facts.signer);
  const matching = signer ? layer.signers.filter((p) => signerMatches(p, signer)) : [];
  if (matching.length === 0) return refuse(`${describeSigner(facts.signer)} is not a signer the organisation policy allows`);
  if (matching.some((p) => p.scope === undefined || p.scope.some((rule) => scopeMatches(rule, facts.name)))) return null;
  const scopes = matching.flatMap((p) => p.scope ?? []).join(', ');
  return refuse(`the organisation policy allows ${labelOf(matching[0] as PolicySigner)} to sign ${scopes}, not ${facts.name}`);
}

/** Blocked names and digests; null when not blocked. */
export function checkBlocked(layer: PolicyLayer, facts: PackageFacts): PolicyRefusal | null {
  const rule = layer.blockedPackages.find((r) => scopeMatches(r, facts.name));
  if (rule !== undefined) return { code: 'POLICY_PACKAGE_BLOCKED', detail: `the organisation policy blocks ${rule === facts.name ? facts.name : `${rule} (${facts.name})`}`, source: layer.source };
  if (facts.integrity !== undefined && layer.blockedDigests.includes(facts.integrity)) {
    return { code: 'POLICY_PACKAGE_BLOCKED', detail: `the organisation policy blocks this tarball of ${facts.name} (${facts.integrity.slice(0, 24)}…)`, source: layer.source };
  }
  return null;
}

/** A granted net rule lies within the ceiling when intersecting it with the ceiling leaves it whole. */
function netWithin(layer: PolicyLayer, rule: string): boolean {
  if (!layer.net) return true;
  let parsed;
  try {
    parsed = parseNetRule(rule);
  } catch {
    return false;
  }
  const whole = netRuleToString(parsed);
  return intersectNetGrants({ rules: [parsed] }, layer.net).rules.some((r) => netRuleToString(r) === whole);
}

function fsWithin(layer: PolicyLayer, rule: string): boolean {
  const fs = layer.fs;
  if (!fs) return true;
  if (fs.kind === 'none') return false;
  let r;
  try {
    r = parseFsRule(rule);
  } catch {
    return false;
  }
  if (fs.kind === 'read') return r.access === 'read';
  // Whole path segments (isWithin), and write only under a write rule.
  return fs.grant.rules.some((c) => isWithin(c.path, r.path) && (r.access === 'read' || c.access === 'write'));
}

function fsCeilingText(layer: PolicyLayer): string {
  const fs = layer.fs;
  if (!fs || fs.kind === 'none') return 'no file access';
  if (fs.kind === 'read') return 'read-only file access';
  return `file access only within ${fs.grant.rules.map((r) => `${r.access}:${r.path}`).join(', ')}`;
}

/** Every granted rule and declared secret beyond the layer's ceilings (empty: within). */
export function checkCapabilities(layer: PolicyLayer, facts: PackageFacts): PolicyRefusal[] {
  const out: PolicyRefusal[] = [];
  const refuse = (detail: string): void => void out.push({ code: 'POLICY_CAPABILITY_DENIED', detail, source: layer.source });
  for (const rule of facts.grant?.net ?? []) {
    if (!netWithin(layer, rule)) refuse(`network ${rule} is beyond the organisation policy's ceiling (${layer.net?.rules.map(netRuleToString).join(', ') || 'no network'})`);
  }
  for (const rule of facts.grant?.fs ?? []) {
    if (!fsWithin(layer, rule)) refuse(`file access ${rule} is beyond the organisation policy's ceiling (${fsCeilingText(layer)})`);
  }
  const allowed = layer.secrets;
  if (allowed !== undefined) {
    for (const name of facts.secrets ?? []) {
      if (allowed === false) refuse(`the secret ${name}: the organisation policy allows no secrets`);
      else if (!allowed.includes(name)) refuse(`the secret ${name} is not one the organisation policy allows (${allowed.join(', ') || 'none'})`);
    }
  }
  return out;
}

/**
 * Everything every policy refuses about a package, in a stable order (blocked, signer, capabilities), each
 * with the file that refuses. Empty: allowed. Pure.
 */
export function checkPackage(policy: OrgPolicy, facts: PackageFacts): PolicyRefusal[] {
  const out: PolicyRefusal[] = [];
  for (const layer of policy.layers) {
    const blocked = checkBlocked(layer, facts);
    if (blocked) out.push(blocked);
    const signer = checkSigner(layer, facts);
    if (signer) out.push(signer);
    out.push(...checkCapabilities(layer, facts));
  }
  return out;
}

/** Whether any policy in force requires strict definition checks. */
export function strictDefinitions(policy: OrgPolicy): boolean {
  return policy.layers.some((l) => l.strictDefinitions);
}

/** The maximum of each limit: the smallest any policy sets (absent: none set). */
export function maximumLimits(policy: OrgPolicy): Partial<Limits> {
  const out: Partial<Record<keyof Limits, number>> = {};
  for (const layer of policy.layers) {
    for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
      const v = layer.limits[key];
      if (typeof v === 'number') out[key] = Math.min(out[key] ?? v, v);
    }
  }
  return out;
}

/** `limits`, each at most the policy's maximum: effective = min(package's, user's, policy's). Pure. */
export function clampLimits(policy: OrgPolicy, limits: Limits): Limits {
  const max = maximumLimits(policy);
  const out: Record<string, number> = { ...limits };
  for (const [key, v] of Object.entries(max)) out[key] = Math.min(out[key] as number, v);
  return out as unknown as Limits;
}
