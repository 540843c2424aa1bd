/**
 * From an npm spec and a packument to the one version to install: npm's own parsing (npm-package-arg) and
 * choice (npm-pick-manifest: exact versions, semver ranges, dist-tags, `latest` by default), then the
 * checks of what the chosen version's `dist` must hold. Pure: no I/O.
 *
 * Threat: the packument is the registry's word, so every field used is checked for type and shape
 * before use; the tarball is later checked against `dist.integrity` and the provenance against the
 * tarball's own digest, so a lying packument can refuse an install but not change what is installed.
 */
import npa from 'npm-package-arg';
import pickManifest from 'npm-pick-manifest';
import { HostError } from '../errors.ts';

export interface NpmSpec {
  readonly name: string;
  /** What the user asked for: a version, a range or a dist-tag ("latest" when nothing was given). */
  readonly wanted: string;
  /** The name as it appears in a registry URL ("@scope%2fname"). */
  readonly escapedName: string;
}

/** The chosen version and what its `dist` says. */
export interface ResolvedVersion {
  readonly name: string;
  readonly version: string;
  readonly tarballUrl: string;
  /** `dist.integrity`, an SRI sha512. */
  readonly integrity: string;
  /** `dist.attestations.url`, when the version was published with attestations. */
  readonly attestationsUrl?: string;
  /** Runtime dependencies the version declares (refused by install). */
  readonly dependencies: readonly string[];
}

/**
 * Parses `NAME[@RANGE]` (optionally prefixed `npm:`) as npm does; undefined when it is not a registry spec
 * (a path, a URL, a git spec, an alias). @throws nothing
 */
export function parseNpmSpec(spec: string): NpmSpec | undefined {
  const raw = spec.startsWith('npm:') ? spec.slice(4) : spec;
  if (raw === '' || raw.includes('\\')) return undefined;
  let r;
  try {
    r = npa(raw);
  } catch {
    return undefined;
  }
  if (!r.registry || r.name === null || r.escapedName === null || (r.type !== 'tag' && r.type !== 'version' && r.type !== 'range')) return undefined;
  const f = r.fetchSpec ?? '';
  return { name: r.name, wanted: f === '' || f === '*' ? 'latest' : f, escapedName: r.escapedName };
}

function invalid(what: string, why: string): HostError {
  return new HostError('REGISTRY_RESPONSE_INVALID', `${what}: ${why}`);
}

const SHA512_SRI = /^sha512-[A-Za-z0-9+/]{86}==$/;

/**
 * Chooses the version of `spec` in `packument` and checks its `dist`.
 * @throws HostError REGISTRY_RESPONSE_INVALID (malformed packument), PACKAGE_NOT_FOUND (no such version)
 */
export function resolveVersion(spec: NpmSpec, packument: unknown): ResolvedVersion {
  const what = `the packument of ${spec.name}`;
  if (typeof packument !== 'object' || packument === null || Array.isArray(packument)) throw invalid(what, 'is not a JSON object');
  const p = packument as { name?: unknown; versions?: unknown; 'dist-tags'?: unknown };
  if (p.name !== spec.name) throw invalid(what, `names another package (${typeof p.name === 'string' ? p.name.slice(0, 100) : 'none'})`);
  if (typeof p.versions !== 'object' || p.versions === null || Array.isArray(p.versions)) throw invalid(what, 'has no versions');
  if (p['dist-tags'] !== undefined && (typeof p['dist-tags'] !== 'object' || p['dist-tags'] === null)) throw invalid(what, 'has malformed dist-tags');
  let picked;
  try {
    picked = pickManifest(packument, spec.wanted);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ETARGET' || code === 'ENOVERSIONS') throw new HostError('PACKAGE_NOT_FOUND', `${spec.name} has no version matching "${spec.wanted}"`);
    throw invalid(what, 'cannot be read as npm reads it');
  }
  const m = picked as { name?: unknown; version?: unknown; dist?: unknown; dependencies?: unknown; optionalDependencies?: unknown };
  const at = `${spec.name}@${String(m.version)}`;
  if (m.name !== spec.name || typeof m.version !== 'string') throw invalid(what, `its version entry ${at} names another package or version`);
  if (typeof m.dist !== 'object' || m.dist === null) throw invalid(what, `${at} has no dist`);
  const dist = m.dist as { tarball?: unknown; integrity?: unknown; attestations?: unknown };
  if (typeof dist.tarball !== 'string') throw invalid(what, `${at} has no dist.tarball`);
  if (typeof dist.integrity !== 'string' || !SHA512_SRI.test(dist.integrity)) throw invalid(what, `${at} has no sha512 dist.integrity (mcp-warden does not accept sha1 shasums)`);
  let attestationsUrl: string | undefined;
  if (dist.attestations !== undefined) {
    const a = dist.attestations as { url?: unknown } | null;
    if (typeof a !== 'object' || a === null || typeof a.url !== 'string') throw invalid(what, `${at} has a malformed dist.attestations`);
    attestationsUrl = a.url;
  }
  const deps = (o: unknown): string[] => (typeof o === 'object' && o !== null && !Array.isArray(o) ? Object.keys(o) : []);
  const dependencies = [...new Set([...deps(m.dependencies), ...deps(m.optionalDependencies)])];
  return { name: spec.name, version: m.version, tarballUrl: dist.tarball, integrity: dist.integrity, dependencies, ...(attestationsUrl !== undefined ? { attestationsUrl } : {}) };
}

/** Refuses a package with runtime dependencies. @throws HostError DEPENDENCIES_UNSUPPORTED */
export function assertNoDependencies(at: string, dependencies: readonly string[]): void {
  if (dependencies.length === 0) return;
  const shown = dependencies.slice(0, 5).join(', ') + (dependencies.length > 5 ? `, … (${dependencies.length})` : '');
  throw new HostError('DEPENDENCIES_UNSUPPORTED', `${at} has runtime dependencies (${shown}): a tool package ships one bundled entry file; bundle its dependencies (e.g. with esbuild) and publish again`);
}
