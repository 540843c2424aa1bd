/**
 * The Sigstore trusted root: the CAs, transparency logs, CT logs and timestamp authorities whose keys
 * a keyless signature must chain to. Read from a file (keys/trusted_root.public-good.json by default),
 * never refreshed over the network at verify time: verification works offline and cannot be steered by
 * a network attacker then. A home may hold its own root (<home>/trusted_root.json), written only by an
 * explicit `mcp-warden trust refresh-root` (through TUF, online) or `trust refresh-root --from FILE`;
 * install and serve then use it instead of the shipped one.
 *
 * Threat: @sigstore/verify treats an authority without `validFor.start` as valid since the beginning of
 * time, so a root edited to drop the start would accept certificates and log entries from before the
 * authority existed. Such a root is refused here.
 */
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import type { TrustMaterial } from '@sigstore/verify';
import { HostError } from '../errors.ts';
import { atomicWrite, makeDirectory } from '../home/files.ts';
import { assertSafe } from '../home/modes.ts';

/** The public-good Sigstore trusted root shipped in keys/. */
export const PUBLIC_GOOD_TRUSTED_ROOT = fileURLToPath(new URL(`${/\/dist\/host\/signing\/[^/]*$/.test(import.meta.url) ? '../../../' : '../../'}keys/trusted_root.public-good.json`, import.meta.url));

// The Sigstore libraries (CommonJS, ~40 modules) are required when a root is parsed: serve imports this
// file for its paths, and builds no TrustMaterial while every installed package's seal matches.
const require = createRequire(import.meta.url);
const sigstore = (): { TrustedRoot: typeof TrustedRoot; toTrustMaterial: (root: TrustedRoot) => TrustMaterial } => ({
  TrustedRoot: (require('@sigstore/protobuf-specs') as { TrustedRoot: typeof TrustedRoot }).TrustedRoot,
  toTrustMaterial: (require('@sigstore/verify') as { toTrustMaterial: (root: TrustedRoot) => TrustMaterial }).toTrustMaterial,
});

const TRUSTED_ROOT_MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.trustedroot(?:\.v0\.\d+)?\+json(?:;version=0\.\d+)?$/;

function invalid(message: string, cause?: unknown): HostError {
  return new HostError('TRUSTED_ROOT_INVALID', `trusted root: ${message}`, { cause });
}

/** Every authority of the root must name when it became valid. */
function checkValidityStarts(root: TrustedRoot): void {
  const groups: [string, { validFor?: { start?: Date } }[]][] = [
    ['certificateAuthorities', root.certificateAuthorities],
    ['timestampAuthorities', root.timestampAuthorities],
    ['tlogs', root.tlogs.map((t) => t.publicKey ?? {})],
    ['ctlogs', root.ctlogs.map((t) => t.publicKey ?? {})],
  ];
  for (const [name, list] of groups) {
    list.forEach((a, i) => {
      const start = a.validFor?.start;
      if (!(start instanceof Date) || Number.isNaN(start.getTime()) || start.getTime() <= 0) {
        throw invalid(`${name}[${i}] has no validity start`);
      }
    });
  }
}

/**
 * Parses a trusted root JSON document into TrustMaterial. Its `publicKey` finder knows no key: keyed
 * verification supplies its own (the one key the policy names).
 * @throws HostError TRUSTED_ROOT_INVALID
 */
export function trustMaterialFromJSON(json: unknown): TrustMaterial {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw invalid('not a JSON object');
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !TRUSTED_ROOT_MEDIA_TYPE.test(mediaType)) throw invalid('unknown mediaType');
  const { TrustedRoot: Root, toTrustMaterial } = sigstore();
  let root: TrustedRoot;
  try {
    root = Root.fromJSON(json);
  } catch (e) {
    throw invalid('does not parse', e);
  }
  checkValidityStarts(root);
  try {
    return toTrustMaterial(root);
  } catch (e) {
    throw invalid('has an unusable key or certificate', e);
  }
}

/** The parsed JSON of a trusted root file. @throws HostError TRUSTED_ROOT_INVALID */
export function readTrustedRootFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw invalid('cannot be read', e);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw invalid('is not valid JSON', e);
  }
}

const cache = new Map<string, TrustMaterial>();

/**
 * The TrustMaterial of the trusted root at `path` (default: the public-good root), read and checked
 * once per process and reused by every verification.
 * @throws HostError TRUSTED_ROOT_INVALID
 */
export function loadTrustMaterial(path: string = PUBLIC_GOOD_TRUSTED_ROOT): TrustMaterial {
  const hit = cache.get(path);
  if (hit !== undefined) return hit;
  const material = trustMaterialFromJSON(readTrustedRootFile(path));
  cache.set(path, material);
  return material;
}

/** The home's own trusted root, used instead of the shipped one when present. */
export function homeTrustedRootFile(homeDir: string): string {
  return join(homeDir, 'trusted_root.json');
}

const homeCache = new Map<string, { readonly stamp: string; readonly material: TrustMaterial }>();

/**
 * The trust material install and serve use for a home: <home>/trusted_root.json when present (the home's
 * rules apply: the user's, writable by nobody else), else the public-good root shipped in keys/. Read
 * again only when the file changed.
 * @throws HostError HOME_UNSAFE, TRUSTED_ROOT_INVALID
 */
export async function loadHomeTrustMaterial(home: string | { readonly dir: string }): Promise<TrustMaterial> {
  const file = homeTrustedRootFile(typeof home === 'string' ? home : home.dir);
  const info = await stat(file).catch((e: unknown) => {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw invalid('cannot be read', e);
  });
  if (info === undefined) return loadTrustMaterial();
  await assertSafe(file);
  const stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
  const hit = homeCache.get(file);
  if (hit?.stamp === stamp) return hit.material;
  const material = trustMaterialFromJSON(readTrustedRootFile(file));
  homeCache.set(file, { stamp, material });
  return material;
}

/** What a trusted root holds, for a one-line report. */
export interface TrustedRootSummary {
  readonly certificateAuthorities: number;
  readonly tlogs: number;
  readonly ctlogs: number;
  readonly timestampAuthorities: number;
}

/**
 * Checks `json` as a trusted root (as every load does) and writes it atomically to <home>/trusted_root.json,
 * mode 0600. A root that would not load is never written.
 * @throws HostError TRUSTED_ROOT_INVALID; OS errors (mapped by the command)
 */
export async function writeHomeTrustedRoot(homeDir: string, json: unknown): Promise<{ file: string; summary: TrustedRootSummary }> {
  const material = trustMaterialFromJSON(json);
  const file = homeTrustedRootFile(homeDir);
  await makeDirectory(homeDir, 0o700);
  await atomicWrite(file, `${JSON.stringify(json, null, 2)}\n`, { mode: 0o600 });
  homeCache.delete(file);
  return {
    file,
    summary: {
      certificateAuthorities: material.certificateAuthorities.length,
      tlogs: material.tlogs.length,
      ctlogs: material.ctlogs.length,
      timestampAuthorities: material.timestampAuthorities.length,
    },
  };
}

export interface TufRefreshOptions {
  /** The TUF metadata cache (kept in the home, so the next refresh verifies against the last root). */
  readonly cacheDir: string;
  /** Default: Sigstore's public-good TUF mirror (https://tuf-repo-cdn.sigstore.dev). */
  readonly mirrorURL?: string;
  /** A TUF root.json to start from, for a mirror @sigstore/tuf has no embedded seed for. */
  readonly tufRootPath?: string;
  readonly timeoutMs?: number;
}

/**
 * The current trusted root, fetched through TUF (@sigstore/tuf: signed, versioned, rollback- and
 * freeze-protected metadata), as the JSON of its `trusted_root.json` target. Online; only ever run by
 * the explicit `trust refresh-root`.
 * @throws HostError FETCH_FAILED (unreachable, or TUF refused the metadata), TRUSTED_ROOT_INVALID
 */
export async function fetchTrustedRootViaTuf(options: TufRefreshOptions): Promise<unknown> {
  const { initTUF } = await import('@sigstore/tuf');
  let text: string;
  try {
    const tuf = await initTUF({
      cachePath: options.cacheDir,
      ...(options.mirrorURL ? { mirrorURL: options.mirrorURL } : {}),
      ...(options.tufRootPath ? { rootPath: options.tufRootPath } : {}),
      timeout: options.timeoutMs ?? 15_000,
      retry: { retries: 1 },
    });
    text = await tuf.getTarget('trusted_root.json');
  } catch (e) {
    // @sigstore/tuf wraps tuf-js's reason (a hash, a signature, an expiry, the network) as its cause.
    const cause = (e as { cause?: unknown }).cause;
    const why = `${e instanceof Error ? e.message : 'error'}${cause instanceof Error ? `: ${cause.message}` : ''}`;
    throw new HostError('FETCH_FAILED', `refreshing the trusted root through TUF failed: ${why}`.slice(0, 400), { cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw invalid('from TUF is not valid JSON', e);
  }
}
