/**
 * The in-toto Statement v1 that mcp-warden signs for a package tarball. Its subject binds the package
 * URL (name and version) to the tarball's SHA-512 digest, and its predicate repeats name, version and
 * SRI integrity, so a valid signature for one package cannot be replayed for another name or version.
 */
import { createHash } from 'node:crypto';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** Older statements (npm provenance before v1) use this type; their subject format is the same. */
export const IN_TOTO_STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';
export const PACKAGE_PREDICATE_TYPE = 'https://mcp-warden.dev/attestation/package/v1';

export interface Subject {
  readonly name: string;
  readonly digest: Readonly<Record<string, string>>;
}

export interface PackagePredicate {
  readonly name: string;
  readonly version: string;
  /** SRI "sha512-…" of the tarball. */
  readonly integrity: string;
}

export interface Statement {
  readonly _type: string;
  readonly subject: readonly Subject[];
  readonly predicateType: string;
  readonly predicate?: unknown;
}

/** The package URL (purl) of an npm package: the scope's "@" is percent-encoded, as npm provenance does. */
export function npmPurl(name: string, version: string): string {
  const encodedName = name.startsWith('@') ? `%40${name.slice(1)}` : name;
  return `pkg:npm/${encodedName}@${encodeURIComponent(version)}`;
}

/** The statement for a package tarball. */
export function packageStatement(pkg: PackagePredicate, tarball: Uint8Array): Statement {
  const sha512 = createHash('sha512').update(tarball).digest('hex');
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: npmPurl(pkg.name, pkg.version), digest: { sha512 } }],
    predicateType: PACKAGE_PREDICATE_TYPE,
    predicate: { name: pkg.name, version: pkg.version, integrity: pkg.integrity },
  };
}

/** The DSSE payload bytes of a statement. */
export function statementPayload(statement: Statement): Buffer {
  return Buffer.from(JSON.stringify(statement), 'utf8');
}

/**
 * Parses a DSSE payload as an in-toto statement (v1 or v0.1); null when it is not one. Shape only: the
 * caller decides what the subjects must match.
 */
export function parseStatement(payload: Uint8Array): Statement | null {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return null;
  }
  if (data === null || typeof data !== 'object') return null;
  const s = data as Record<string, unknown>;
  if (s._type !== IN_TOTO_STATEMENT_V1 && s._type !== IN_TOTO_STATEMENT_V01) return null;
  if (typeof s.predicateType !== 'string' || !Array.isArray(s.subject)) return null;
  const subject: Subject[] = [];
  for (const sub of s.subject as unknown[]) {
    if (sub === null || typeof sub !== 'object') return null;
    const { name, digest } = sub as Record<string, unknown>;
    if (typeof name !== 'string' || digest === null || typeof digest !== 'object') return null;
    const d: Record<string, string> = {};
    for (const [alg, hex] of Object.entries(digest as Record<string, unknown>)) {
      if (typeof hex !== 'string') return null;
      d[alg] = hex.toLowerCase();
    }
    subject.push({ name, digest: d });
  }
  return { _type: s._type, subject, predicateType: s.predicateType, predicate: s.predicate };
}

/** The predicate of a package statement, or null when the statement is not one or is malformed. */
export function packagePredicate(statement: Statement): PackagePredicate | null {
  if (statement.predicateType !== PACKAGE_PREDICATE_TYPE) return null;
  const p = statement.predicate as Record<string, unknown> | null | undefined;
  if (!p || typeof p.name !== 'string' || typeof p.version !== 'string' || typeof p.integrity !== 'string') return null;
  return { name: p.name, version: p.version, integrity: p.integrity };
}
