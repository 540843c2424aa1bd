/**
 * The signed copy of each installed package, kept in the home: <home>/store/<sha512 hex>.tgz and
 * <sha512 hex>.sigstore.json, named by the tarball's digest. A package installed from an npm registry
 * keeps <sha512 hex>.attestations.json (the registry's attestations document) and <sha512 hex>.keys.json
 * (the registry's signing keys) instead of a bundle: serve re-verifies its provenance from them, offline.
 *
 * Threat: the seal of a lock entry (host/home/seal.ts) is the cached result of install's verification.
 * When it does not check (no key, another writer edited the entry), serve re-verifies the kept bundle
 * against trust.json and the kept tarball against the entry, and so refuses with the precise reason: a
 * planted package has no signed copy (SIGNATURE_INVALID), a copy signed by someone no longer trusted is
 * UNTRUSTED_SIGNER, rewritten digests are INTEGRITY_MISMATCH.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite } from './files.ts';
import type { Home, LockFile } from './home.ts';

/** The store's file name stem for an SRI integrity ("sha512-<base64>" → hex), or undefined if it is not one. */
export function storeStem(integrity: string): string | undefined {
  const m = /^sha512-([A-Za-z0-9+/]{86}==)$/.exec(integrity);
  return m ? Buffer.from(m[1] as string, 'base64').toString('hex') : undefined;
}

export interface KeptPackage {
  readonly tarball: Buffer;
  readonly bundleJson: unknown;
}

/** What verified a package installed from npm: passed where a bundle goes (host/install/commit.ts). */
export class NpmEvidence {
  readonly attestations: unknown;
  readonly keys: unknown;
  constructor(attestations: unknown, keys: unknown) {
    this.attestations = attestations;
    this.keys = keys;
  }
}

export interface KeptNpmPackage {
  readonly tarball: Buffer;
  readonly attestations: unknown;
  /** undefined when the registry served no keys (kept as JSON null). */
  readonly keys: unknown;
}

const json = (v: unknown): string => `${JSON.stringify(v ?? null)}\n`;

/** Keeps the verified tarball and its bundle, or its npm evidence (before the lock that names them is written). */
export async function keepSignedPackage(home: Home, integrity: string, tarball: Uint8Array, bundleJson: unknown): Promise<void> {
  const stem = storeStem(integrity);
  if (stem === undefined) return;
  await mkdir(home.storeDir, { recursive: true, mode: 0o700 });
  await atomicWrite(join(home.storeDir, `${stem}.tgz`), tarball, { mode: 0o600 });
  if (bundleJson instanceof NpmEvidence) {
    await atomicWrite(join(home.storeDir, `${stem}.attestations.json`), json(bundleJson.attestations), { mode: 0o600 });
    await atomicWrite(join(home.storeDir, `${stem}.keys.json`), json(bundleJson.keys), { mode: 0o600 });
    return;
  }
  await atomicWrite(join(home.storeDir, `${stem}.sigstore.json`), json(bundleJson), { mode: 0o600 });
}

/** The kept copy of a package installed from npm, or undefined when there is none (or it is unreadable). */
export async function readKeptNpmPackage(home: Home, integrity: string): Promise<KeptNpmPackage | undefined> {
  const stem = storeStem(integrity);
  if (stem === undefined) return undefined;
  try {
    const [tarball, attestations, keys] = await Promise.all([
      readFile(join(home.storeDir, `${stem}.tgz`)),
      readFile(join(home.storeDir, `${stem}.attestations.json`), 'utf8'),
      readFile(join(home.storeDir, `${stem}.keys.json`), 'utf8'),
    ]);
    const k = JSON.parse(keys) as unknown;
    return { tarball, attestations: JSON.parse(attestations) as unknown, keys: k === null ? undefined : k };
  } catch {
    return undefined;
  }
}

/** The kept signed copy of a package, or undefined when there is none (or it is unreadable). */
export async function readKeptPackage(home: Home, integrity: string): Promise<KeptPackage | undefined> {
  const stem = storeStem(integrity);
  if (stem === undefined) return undefined;
  try {
    const [tarball, bundle] = await Promise.all([readFile(join(home.storeDir, `${stem}.tgz`)), readFile(join(home.storeDir, `${stem}.sigstore.json`), 'utf8')]);
    return { tarball, bundleJson: JSON.parse(bundle) as unknown };
  } catch {
    return undefined;
  }
}

/** Deletes kept copies no lock entry references. Call with the writer lock held. @returns the names removed */
export async function cleanStore(home: Home, lock: LockFile): Promise<string[]> {
  const referenced = new Set(Object.values(lock.packages).map((e) => storeStem(e.integrity)));
  let names: string[];
  try {
    names = await readdir(home.storeDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const stem = n.split('.')[0] ?? '';
    if (referenced.has(stem) && (n.endsWith('.tgz') || n.endsWith('.sigstore.json') || n.endsWith('.attestations.json') || n.endsWith('.keys.json'))) continue;
    await rm(join(home.storeDir, n), { force: true, recursive: true });
    removed.push(`store/${n}`);
  }
  return removed;
}
