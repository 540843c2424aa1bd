/**
 * The organisation policy as plain data (docs/policy.md): one layer per policy file, parsed once into typed
 * descriptors (scope rules checked, net and fs rules in the runtime's grammar). Pure: reading the files and
 * checking who may write them is host/policy/load.ts.
 *
 * Threat: a policy narrows what the user may install and serve. A rule we cannot read must never be taken
 * as "no rule" (that would loosen it): anything unreadable refuses the whole file (POLICY_INVALID), and
 * the caller fails closed.
 */
import { parseFsGrant, parseNetGrant } from '../../runtime/index.ts';
import type { FsGrant, Limits, NetGrant } from '../../runtime/index.ts';
import { HostError } from '../errors.ts';
import { strictValidator } from '../home/precompiled.ts';
import { describeAjvError } from '../serve/validation.ts';
import { parseScope } from '../trust/policy.ts';
import policySchemaJson from './schema.json' with { type: 'json' };

interface SignerCommon {
  /** A label for messages. */
  readonly name?: string;
  /** Package names this signer may sign for (trust/policy.ts scope rules); absent: any. */
  readonly scope?: readonly string[];
}

/** A signer the policy allows, matched exactly against the signer recorded at install. */
export type PolicySigner =
  | (SignerCommon & { readonly kind: 'key'; readonly keyId: string })
  | (SignerCommon & { readonly kind: 'identity'; readonly identity: string; readonly issuer: string })
  | (SignerCommon & { readonly kind: 'provenance'; readonly repository: string; readonly workflow?: string; readonly issuer: string });

/** The file-system ceiling: no access, read-only access, or only within these rules. */
export type FsCeiling = { readonly kind: 'none' } | { readonly kind: 'read' } | { readonly kind: 'rules'; readonly grant: FsGrant };

/** One policy file, parsed. An absent field restricts nothing. */
export interface PolicyLayer {
  /** Where it came from (a path), for messages. */
  readonly source: string;
  readonly signers?: readonly PolicySigner[];
  readonly blockedPackages: readonly string[];
  readonly blockedDigests: readonly string[];
  readonly fs?: FsCeiling;
  readonly net?: NetGrant;
  /** false: no secrets; a list: only these names. */
  readonly secrets?: false | readonly string[];
  readonly limits: Partial<Limits>;
  readonly strictDefinitions: boolean;
}

/** Every policy in force: system-wide, then --policy files, then $MCP_WARDEN_POLICY. Each one must allow. */
export interface OrgPolicy {
  readonly layers: readonly PolicyLayer[];
}

/** No policy: nothing restricted. */
export const NO_POLICY: OrgPolicy = Object.freeze({ layers: Object.freeze([]) });

// Precompiled at build time (scripts/compile-validators.ts); compiled on first use where it is not.
const policyValidator = strictValidator(policySchemaJson as object, new URL('./schema.validate.cjs', import.meta.url));

/** The published JSON Schema of a policy file. */
export function policySchema(): unknown {
  return structuredClone(policySchemaJson);
}

function invalid(source: string, message: string): HostError {
  return new HostError('POLICY_INVALID', `policy ${source}: ${message}; see docs/policy.md`);
}

interface RawPolicy {
  signers?: (PolicySigner & { scope?: string[] })[];
  blocked?: { packages?: string[]; digests?: string[] };
  capabilities?: { fs?: 'none' | 'read' | string[]; net?: string[]; secrets?: false | string[] };
  limits?: Partial<Limits>;
  strictDefinitions?: boolean;
}

function parsed<T>(source: string, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw invalid(source, `${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * One policy document (already JSON) from `source`: checked against the published schema, then each rule
 * parsed as the checks will use it. Pure. @throws HostError POLICY_INVALID naming the field
 */
export function parsePolicy(json: unknown, source: string): PolicyLayer {
  const validate = policyValidator();
  if (!validate(json)) throw invalid(source, `does not match its schema: ${describeAjvError(validate.errors, 'policy')}`);
  const raw = json as RawPolicy;
  const signers = raw.signers?.map((s, i) => {
    if (s.scope) parsed(source, `signers[${i}].scope`, () => s.scope?.forEach(parseScope));
    return s as PolicySigner;
  });
  const blockedPackages = raw.blocked?.packages ?? [];
  parsed(source, 'blocked.packages', () => blockedPackages.forEach(parseScope));
  const caps = raw.capabilities ?? {};
  let fs: FsCeiling | undefined;
  if (caps.fs === 'none' || caps.fs === 'read') fs = { kind: caps.fs };
  else if (caps.fs !== undefined) {
    const rules = caps.fs;
    fs = { kind: 'rules', grant: parsed(source, 'capabilities.fs', () => parseFsGrant(rules)) };
  }
  const netRules = caps.net;
  const net = netRules === undefined ? undefined : parsed(source, 'capabilities.net', () => parseNetGrant(netRules));
  return {
    source,
    ...(signers ? { signers } : {}),
    blockedPackages,
    blockedDigests: raw.blocked?.digests ?? [],
    ...(fs ? { fs } : {}),
    ...(net ? { net } : {}),
    ...(caps.secrets === undefined ? {} : { secrets: caps.secrets }),
    limits: raw.limits ?? {},
    strictDefinitions: raw.strictDefinitions === true,
  };
}
