/**
 * Fetching one package version from the user's npm registry: the packument, the chosen version's tarball
 * (checked against `dist.integrity`), its attestations (`dist.attestations.url`) and the registry's
 * signing keys (`/-/npm/v1/keys`). Verification of the attestations is not done here
 * (host/provenance/verify.ts, called by install): this only brings the bytes, bounded and checked for shape.
 */
import ssri from 'ssri';
import { HostError } from '../errors.ts';
import { DEFAULT_TAR_LIMITS } from '../pack/extract.ts';
import { loadNpmConfig, registryFor } from './npmrc.ts';
import type { NpmConfig } from './npmrc.ts';
import { assertNoDependencies, resolveVersion } from './resolve.ts';
import type { NpmSpec } from './resolve.ts';
import { fetchBounded, parseJsonBody, registryAgent } from './transport.ts';

/** Largest packument read (the full document of a package with thousands of versions is tens of MiB). */
export const MAX_PACKUMENT_BYTES = 64 * 1024 * 1024;
/** Largest attestations document (two bundles of a few KiB each). */
export const MAX_ATTESTATIONS_BYTES = 4 * 1024 * 1024;
/** Largest keys document. */
export const MAX_KEYS_BYTES = 1024 * 1024;

export interface FetchedNpmPackage {
  readonly name: string;
  readonly version: string;
  /** The registry the package came from (with a trailing slash). */
  readonly registry: string;
  readonly tarball: Buffer;
  /** SRI sha512 of `tarball` (equal to `dist.integrity`, checked). */
  readonly integrity: string;
  /** The body of `dist.attestations.url`, or undefined when the version has none. */
  readonly attestations: unknown;
  /** The body of `/-/npm/v1/keys`, or undefined when the registry serves none. */
  readonly keys: unknown;
}

export interface FetchNpmOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** The configuration to use instead of reading .npmrc files (tests of this module). */
  readonly config?: NpmConfig;
  /** Hosts also exempt from the private-address check besides the registry's (tests of this module). */
  readonly exemptHosts?: readonly string[];
  /** Deadline of each request (default REQUEST_TIMEOUT_MS; tests of this module). */
  readonly timeoutMs?: number;
}

/**
 * Resolves and fetches `spec`.
 * @throws HostError REGISTRY_CONFIG_INVALID, FETCH_FAILED, PACKAGE_NOT_FOUND, REGISTRY_ADDRESS_REFUSED,
 *   REGISTRY_RESPONSE_TOO_LARGE, REGISTRY_RESPONSE_INVALID, DEPENDENCIES_UNSUPPORTED, INTEGRITY_MISMATCH
 */
export async function fetchNpmPackage(spec: NpmSpec, options: FetchNpmOptions): Promise<FetchedNpmPackage> {
  const config = options.config ?? loadNpmConfig(options.cwd, options.env);
  const registry = registryFor(config, spec.name);
  const agent = registryAgent(registry, options.exemptHosts);
  try {
    const get = (url: string, what: string, maxBytes: number, accept?: string): Promise<Buffer> => fetchBounded(url, config, registry, agent, { what, maxBytes, ...(accept ? { accept } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
    const packumentWhat = `the packument of ${spec.name}`;
    const packument = parseJsonBody(await get(new URL(spec.escapedName, registry).href, packumentWhat, MAX_PACKUMENT_BYTES, 'application/json'), packumentWhat);
    const v = resolveVersion(spec, packument);
    const at = `${v.name}@${v.version}`;
    assertNoDependencies(at, v.dependencies);
    const tarballUrl = checkedUrl(replaceRegistryHost(v.tarballUrl, registry, config['replace-registry-host']), registry, `the tarball URL of ${at}`);
    const tarball = await get(tarballUrl, `the tarball of ${at}`, DEFAULT_TAR_LIMITS.maxCompressedBytes);
    try {
      ssri.checkData(tarball, v.integrity, { error: true });
    } catch {
      throw new HostError('INTEGRITY_MISMATCH', `the tarball of ${at} does not match the registry's dist.integrity`);
    }
    const integrity = ssri.fromData(tarball, { algorithms: ['sha512'] }).toString();
    let attestations: unknown;
    let keys: unknown;
    if (v.attestationsUrl !== undefined) {
      const url = checkedUrl(v.attestationsUrl, registry, `the attestations URL of ${at}`);
      const what = `the attestations of ${at}`;
      attestations = parseJsonBody(await get(url, what, MAX_ATTESTATIONS_BYTES, 'application/json'), what);
      keys = await fetchKeys(get, registry);
    }
    return { name: v.name, version: v.version, registry: registry.href, tarball, integrity, attestations, keys };
  } finally {
    agent.destroy();
  }
}

async function fetchKeys(get: (url: string, what: string, maxBytes: number, accept?: string) => Promise<Buffer>, registry: URL): Promise<unknown> {
  const what = `the signing keys of ${registry.origin}`;
  try {
    return parseJsonBody(await get(new URL('-/npm/v1/keys', registry).href, what, MAX_KEYS_BYTES, 'application/json'), what);
  } catch (e) {
    // A registry without keys: the publish attestation cannot verify (refused there, with its own code).
    if (e instanceof HostError && e.code === 'PACKAGE_NOT_FOUND') return undefined;
    throw e;
  }
}

/**
 * npm's `replace-registry-host` (pacote's RemoteFetcher): a tarball URL on the host it names
 * ("npmjs", the default, is registry.npmjs.org; "always": any host; "never") is fetched from the
 * configured registry instead, same path. So a mirror's packuments that point at the public registry
 * are served by the mirror, as npm does.
 */
export function replaceRegistryHost(tarball: string, registry: URL, setting: string | undefined): string {
  const rrh = !setting || setting === 'npmjs' ? 'registry.npmjs.org' : setting;
  let url: URL;
  try {
    url = new URL(tarball, registry);
  } catch {
    return tarball;
  }
  if (rrh !== 'never' && (rrh === 'always' || rrh === url.host)) return new URL(url.pathname, registry).href;
  return tarball;
}

/** A URL the packument named: absolute or relative to the registry, and of the registry's protocol. */
function checkedUrl(raw: string, registry: URL, what: string): string {
  let url: URL;
  try {
    url = new URL(raw, registry);
  } catch {
    throw new HostError('REGISTRY_RESPONSE_INVALID', `${what} is not a URL`);
  }
  if (url.protocol !== registry.protocol) throw new HostError('REGISTRY_RESPONSE_INVALID', `${what} is ${url.protocol.replace(':', '')}, not ${registry.protocol.replace(':', '')} as the registry (refused)`);
  if (url.username || url.password) throw new HostError('REGISTRY_RESPONSE_INVALID', `${what} carries credentials (refused)`);
  return url.href;
}
