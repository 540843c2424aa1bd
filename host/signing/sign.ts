/**
 * Signing a package tarball: a Sigstore bundle (v0.3) holding a DSSE envelope over the package's in-toto
 * statement (statement.ts). Keyed: signed with the publisher's ECDSA P-256 key, verification material
 * is the key's id as a hint (no transparency log: trust comes from the user pinning the key). Keyless:
 * an ephemeral key certified by Fulcio for the signer's OIDC identity, witnessed by Rekor (and a
 * timestamp authority when one is given).
 */
import { createPublicKey, sign as cryptoSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { bundleToJSON, toDSSEBundle } from '@sigstore/bundle';
import type { SerializedBundle } from '@sigstore/bundle';
import { dsse } from '@sigstore/core';
import { DSSEBundleBuilder, FulcioSigner, RekorWitness, TSAWitness } from '@sigstore/sign';
import type { Witness } from '@sigstore/sign';
import ssri from 'ssri';
import { HostError } from '../errors.ts';
import { readPackageJsonFromTarball } from '../pack/extract.ts';
import { keyIdOf } from './keys.ts';
import { IN_TOTO_PAYLOAD_TYPE, packageStatement, statementPayload } from './statement.ts';

export const DEFAULT_FULCIO_URL = 'https://fulcio.sigstore.dev';
export const DEFAULT_REKOR_URL = 'https://rekor.sigstore.dev';

/** The bundle file written next to a tarball. */
export function bundlePathFor(tarballPath: string): string {
  return `${tarballPath}.sigstore.json`;
}

export interface KeylessOptions {
  /** An OIDC identity token (JWT) for Fulcio. */
  readonly identityToken: string;
  readonly fulcioURL?: string;
  readonly rekorURL?: string;
  /** Rekor API major version: 1 (default) or 2 (v2 entries carry no time, so a TSA is then required). */
  readonly rekorVersion?: 1 | 2;
  /** A timestamp authority; none by default. */
  readonly tsaURL?: string;
  readonly timeoutMs?: number;
}

/** The name, version and integrity of a package tarball, read from its own package.json. */
export function describeTarball(tarball: Uint8Array): { name: string; version: string; integrity: string } {
  const { json } = readPackageJsonFromTarball(tarball);
  const { name, version } = (json ?? {}) as { name?: unknown; version?: unknown };
  if (typeof name !== 'string' || typeof version !== 'string' || !name || !version) {
    throw new HostError('MANIFEST_INVALID', 'package.json of the tarball has no name or version');
  }
  return { name, version, integrity: ssri.fromData(Buffer.from(tarball), { algorithms: ['sha512'] }).toString() };
}

function packagePayload(tarball: Uint8Array): Buffer {
  return statementPayload(packageStatement(describeTarball(tarball), tarball));
}

/**
 * Keyed signing. Returns the bundle as JSON (ready to be written).
 * @throws HostError TARBALL_INVALID, MANIFEST_INVALID, KEY_INVALID
 */
export function signKeyed(tarball: Uint8Array, privateKey: KeyObject): SerializedBundle {
  return signStatementKeyed(packagePayload(tarball), privateKey);
}

/** Keyed DSSE signing of an in-toto statement payload (any statement, not only a package's). */
export function signStatementKeyed(payload: Buffer, privateKey: KeyObject): SerializedBundle {
  if (privateKey.type !== 'private') throw new HostError('KEY_INVALID', 'a private key is needed to sign');
  const signature = cryptoSign('sha256', dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload), privateKey);
  const bundle = toDSSEBundle({
    artifact: payload,
    artifactType: IN_TOTO_PAYLOAD_TYPE,
    signature,
    keyHint: keyIdOf(createPublicKey(privateKey)),
    certificateChain: false,
  });
  return bundleToJSON(bundle);
}

/**
 * Keyless signing through Fulcio and Rekor (and a TSA if given).
 * @throws HostError TARBALL_INVALID, MANIFEST_INVALID, SIGNING_FAILED (a Sigstore service refused or failed)
 */
export async function signKeyless(tarball: Uint8Array, options: KeylessOptions): Promise<SerializedBundle> {
  const payload = packagePayload(tarball);
  // A couple of retries on network errors and 5xx, as cosign does: CI runners see transient failures.
  const fetchOptions = { timeout: options.timeoutMs ?? 30_000, retry: 2 };
  const token = options.identityToken;
  const witnesses: Witness[] = [
    new RekorWitness({ rekorBaseURL: options.rekorURL ?? DEFAULT_REKOR_URL, majorApiVersion: options.rekorVersion ?? 1, ...fetchOptions }),
  ];
  if (options.tsaURL) witnesses.push(new TSAWitness({ tsaBaseURL: options.tsaURL, ...fetchOptions }));
  const builder = new DSSEBundleBuilder({
    signer: new FulcioSigner({
      identityProvider: { getToken: () => Promise.resolve(token) },
      fulcioBaseURL: options.fulcioURL ?? DEFAULT_FULCIO_URL,
      ...fetchOptions,
    }),
    witnesses,
  });
  try {
    const bundle = await builder.create({ data: payload, type: IN_TOTO_PAYLOAD_TYPE });
    return bundleToJSON(bundle);
  } catch (e) {
    throw new HostError('SIGNING_FAILED', `keyless signing failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 500), { cause: e });
  }
}
