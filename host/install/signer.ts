/**
 * The signer of an installed package as recorded in lock.json (the precise reason when a keyless signer
 * is not trusted is in ./refine-untrusted.ts: it needs the Sigstore verifier, which serve's start-up
 * does not load when every seal matches).
 *
 * Threat: an update must come from the signer the user accepted at install. The recorded form is
 * canonical and unambiguous (a key by its id, an identity by its exact issuer and identity, an npm
 * provenance source by its issuer, repository, workflow and ref, JSON-encoded so no string can be
 * crafted to equal another tuple), never the publisher's local name, which the user may later re-point
 * at another key.
 */
import type { ProvenanceSigner } from '../provenance/facts.ts';
import type { VerifiedSigner } from '../signing/verify.ts';

/** Any signer a lock entry can record: a key, a keyless identity, or an npm provenance source. */
export type RecordedSigner = VerifiedSigner | ProvenanceSigner;

/**
 * The canonical signer string of lock.json: "key:<hex key id>", "keyless:[issuer, identity]" or
 * "provenance:[issuer, repository, workflow, ref]".
 */
export function signerId(signer: RecordedSigner): string {
  if (signer.kind === 'key') return `key:${signer.keyId}`;
  if (signer.kind === 'provenance') return `provenance:${JSON.stringify([signer.issuer, signer.repository, signer.workflow, signer.ref])}`;
  return `keyless:${JSON.stringify([signer.issuer, signer.identity])}`;
}

/** A readable form of a recorded signer string. */
export function describeSignerId(id: string): string {
  const signer = parseSignerId(id);
  if (!signer) return id;
  if (signer.kind === 'key') return `key ${signer.keyId}`;
  if (signer.kind === 'provenance') return `${signer.repository} ${signer.workflow} at ${signer.ref} (npm provenance, issuer ${signer.issuer})`;
  return `${signer.identity} (issuer ${signer.issuer})`;
}

/** A JSON list of `length` non-empty strings, or undefined. */
function stringTuple(json: string, length: number): string[] | undefined {
  try {
    const list = JSON.parse(json) as unknown;
    if (Array.isArray(list) && list.length === length && list.every((s) => typeof s === 'string' && s.length > 0)) return list as string[];
  } catch {
    // Not JSON: not a signer install wrote.
  }
  return undefined;
}

/** The signer a recorded signer string names (the inverse of signerId), or undefined when it is not one. */
export function parseSignerId(id: string): RecordedSigner | undefined {
  const key = /^key:([0-9a-f]{64})$/.exec(id);
  if (key) return { kind: 'key', keyId: key[1] as string };
  if (id.startsWith('keyless:')) {
    const pair = stringTuple(id.slice('keyless:'.length), 2);
    return pair ? { kind: 'identity', issuer: pair[0] as string, identity: pair[1] as string } : undefined;
  }
  if (id.startsWith('provenance:')) {
    const parts = stringTuple(id.slice('provenance:'.length), 4);
    if (!parts) return undefined;
    const [issuer, repository, workflow, ref] = parts as [string, string, string, string];
    return { kind: 'provenance', issuer, repository, workflow, ref };
  }
  return undefined;
}
