/**
 * The Sigstore trusted root: the CAs, transparency logs, CT logs and timestamp authorities whose keys
 * a keyless signature must chain to. Read from a file (keys/trusted_root.public-good.json by default),
 * never refreshed over the network: verification works offline and cannot be steered by a network
 * attacker at verify time.
 *
 * Threat: @sigstore/verify treats an authority without `validFor.start` as valid since the beginning of
 * time, so a root edited to drop the start would accept certificates and log entries from before the
 * authority existed. Such a root is refused here.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
import type { TrustMaterial } from '@sigstore/verify';
import { HostError } from '../errors.ts';

/** The public-good Sigstore trusted root shipped in keys/. */
export const PUBLIC_GOOD_TRUSTED_ROOT = fileURLToPath(new URL(`${/\/dist\/host\/signing\/[^/]*$/.test(import.meta.url) ? '../../../' : '../../'}keys/trusted_root.public-good.json`, import.meta.url));

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
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(json);
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
