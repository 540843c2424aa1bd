/**
 * The verification hook run before an installed package is loaded. serve calls it for every package of
 * lock.json; if it throws, that package is refused (stderr + audit line) and the others still load.
 *
 * Threat: the files in <home>/packages are what the sandbox runs, long after install verified the
 * signature, and lock.json, which says what they should be and what they may reach, is a file too.
 * In order:
 *   1. the package directory and every directory up to the home belong to the user and nobody else can
 *      write them (host/home/modes.ts, HOME_UNSAFE; in one load of many packages, the directories above
 *      the packages' own are checked once for the load);
 *   2. the lock entry carries a seal made with the home's lock.key (host/home/seal.ts): install's
 *      verification result, cached by the tarball's digest. Without it the kept signed copy
 *      (host/home/store.ts) is re-verified against trust.json to say precisely why the entry is refused:
 *      SIGNATURE_INVALID (nothing signed: planted), UNTRUSTED_SIGNER, INTEGRITY_MISMATCH (digests or grant
 *      rewritten);
 *   3. the signer recorded at install is still trusted for this name by trust.json (UNTRUSTED_SIGNER,
 *      SIGNER_OUT_OF_SCOPE): removing a publisher stops serving its packages;
 *   4. the directory holds exactly the recorded files, each with its sha512 (INTEGRITY_MISMATCH).
 * A package installed from an npm registry (signer `provenance:[…]`) is re-verified at every serve from
 * the copy kept in the home (tarball, attestations, registry keys: host/home/store.ts) against the
 * trusted root (the home's trusted_root.json when present, else keys/) and trust.json's provenance
 * publishers: offline, and with the same codes as install (PROVENANCE_*); step 3 is that check.
 *
 * Fast and offline on the normal path: one HMAC, one pure trust lookup, one sha512 pass over the files
 * (a typical package is tens of KiB). No cache of the file hashes: whoever can write a file can restore
 * its mtime and size, so only the content is evidence.
 *
 * The result is the verified bytes themselves: the loader reads package.json and the entry from them,
 * never from the disk again, so nothing can change between the check and the use.
 */
import { lstatSync, realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { HostError, isHostError } from '../errors.ts';
import { parseSignerId, signerId } from '../install/signer.ts';
import { findTrustedSigner, loadTrustPolicy } from '../trust/policy.ts';
import type { TrustPolicy } from '../trust/policy.ts';
import type { Home, InstalledPackage, LockEntry } from './home.ts';
import { digestFiles, readVerifiedTree } from './file-digests.ts';
import { assertSafeSync, assertSafeUpToHome } from './modes.ts';
import { readSealKey, sealMatches } from './seal.ts';
import { readKeptNpmPackage, readKeptPackage } from './store.ts';
// The signature and provenance verifiers (and the Sigstore libraries under them) are imported when an
// entry needs them (a provenance package, or a seal that does not match), not at every serve's start-up.
// So is the tarball reader (and zlib under it), for comparing a kept copy's files with the lock.
const verifiers = async () => ({
  ...(await import('../pack/extract.ts')),
  ...(await import('../trust/verify-trusted.ts')),
  ...(await import('../install/npm-verify.ts')),
  ...(await import('../signing/trust-root.ts')),
});

/** What serve knows after verification: the package as recorded, and its files as checked. */
export interface VerifiedInstall {
  readonly name: string;
  readonly version: string;
  /** SRI integrity of the tarball that was verified at install. */
  readonly integrity: string;
  /** The signer recorded at install (host/install/signer.ts). */
  readonly signer: string;
  /** The real path of the package directory. */
  readonly dir: string;
  /** Every file of the package, package-relative path → the bytes that matched the recorded digest. */
  readonly files: ReadonlyMap<string, Buffer>;
}

export type VerifyInstalled = (pkg: InstalledPackage, home: Home) => Promise<VerifiedInstall>;

function sameDigests(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

/**
 * Re-verifies a package installed from npm from its kept copy, offline: its attestations, the trust
 * decision, and that the result is what lock.json records. @throws HostError
 */
async function reverifyNpm(pkg: InstalledPackage, home: Home, policy: TrustPolicy, what: string): Promise<void> {
  const kept = await readKeptNpmPackage(home, pkg.integrity);
  if (!kept) throw new HostError('SIGNATURE_INVALID', `${what}: installed from npm, but its kept attestations are missing or unreadable; install it again`);
  const { verifyNpmPackage, loadHomeTrustMaterial, readTarball } = await verifiers();
  let verified;
  try {
    verified = verifyNpmPackage(kept.tarball, { name: pkg.name, version: pkg.version, attestations: kept.attestations, keys: kept.keys }, policy, await loadHomeTrustMaterial(home));
  } catch (e) {
    const code = isHostError(e) ? e.code : 'SIGNATURE_INVALID';
    throw new HostError(code, `${what}: its kept provenance does not verify: ${e instanceof Error ? e.message.slice(0, 300) : 'error'}`);
  }
  if (verified.integrity !== pkg.integrity || verified.signer !== pkg.signer || !sameDigests(digestFiles(readTarball(kept.tarball)), pkg.files ?? {})) {
    throw new HostError('INTEGRITY_MISMATCH', `${what}: its lock.json record (signer or file digests) does not match its verified package: it was rewritten outside mcp-warden; install it again`);
  }
}

/** Why an entry whose seal does not check is refused: the kept signed copy is re-verified against trust.json. */
async function unsealedReason(pkg: InstalledPackage, home: Home, policy: TrustPolicy, what: string): Promise<HostError> {
  if (parseSignerId(pkg.signer)?.kind === 'provenance') {
    try {
      await reverifyNpm(pkg, home, policy, what);
    } catch (e) {
      if (isHostError(e)) return e;
      throw e;
    }
    return new HostError('INTEGRITY_MISMATCH', `${what}: its lock.json record was changed outside mcp-warden (its seal does not match, e.g. an edited grant); install it again to consent afresh`);
  }
  const kept = await readKeptPackage(home, pkg.integrity);
  if (!kept) {
    return new HostError('SIGNATURE_INVALID', `${what}: its lock.json record is not sealed by this home's key and no signed copy of it is kept, so nothing proves "mcp-warden install" verified it (planted?); remove it, or install it again from a signed tarball`);
  }
  let signer: string;
  let integrity: string;
  let name: string;
  let version: string;
  const { verifyTrustedPackage, loadHomeTrustMaterial, readTarball } = await verifiers();
  try {
    const trusted = verifyTrustedPackage(kept.tarball, kept.bundleJson, policy, { trustMaterial: await loadHomeTrustMaterial(home) });
    ({ name, version, integrity } = trusted.package);
    signer = signerId(trusted.signer);
  } catch (e) {
    const code = isHostError(e) ? e.code : 'SIGNATURE_INVALID';
    return new HostError(code, `${what}: its lock.json record is not sealed and its kept signed copy does not verify: ${e instanceof Error ? e.message.slice(0, 300) : 'error'}`);
  }
  if (name !== pkg.name || version !== pkg.version || integrity !== pkg.integrity || signer !== pkg.signer || !sameDigests(digestFiles(readTarball(kept.tarball)), pkg.files ?? {})) {
    return new HostError('INTEGRITY_MISMATCH', `${what}: its lock.json record (signer or file digests) does not match its signed package: it was rewritten outside mcp-warden; install it again`);
  }
  return new HostError('INTEGRITY_MISMATCH', `${what}: its lock.json record was changed outside mcp-warden (its seal does not match, e.g. an edited grant); install it again to consent afresh`);
}

/**
 * What every package of one load shares, each read (and checked) once for the load: trust.json, lock.key,
 * and the ownership and modes of the directories above the packages' own (packages/ and the home).
 */
interface LoadReadings {
  policy(): Promise<TrustPolicy>;
  sealKey(): Promise<Buffer | undefined>;
  /** Checks `dir` itself and, once for the load, every directory above it up to the home. */
  assertSafeDir(dir: string): Promise<void>;
  /** The real path of the home's packages/ directory. */
  packagesRoot(): Promise<string>;
}

/** Readings for one load of `home`: each made at its first use, then shared by the load. */
function readingsOf(home: Home): LoadReadings {
  let policy: Promise<TrustPolicy> | undefined;
  let key: Promise<Buffer | undefined> | undefined;
  const checked = new Map<string, Promise<void>>();
  let root: Promise<string> | undefined;
  return {
    packagesRoot: () => (root ??= realpath(home.packagesDir)),
    policy: () => (policy ??= loadTrustPolicy(home.trustFile)),
    sealKey: () => (key ??= readSealKey(home)),
    assertSafeDir: async (dir) => {
      const above = dirname(dir);
      let parents = checked.get(above);
      if (parents === undefined) {
        parents = assertSafeUpToHome(home, above);
        checked.set(above, parents);
      }
      await parents;
      assertSafeSync(dir);
    },
  };
}

/** Verifies one installed package against the readings of its load. */
async function verify(pkg: InstalledPackage, home: Home, load: LoadReadings): Promise<VerifiedInstall> {
  const what = `installed package ${pkg.name}@${pkg.version}`;
  const dir = join(home.dir, pkg.dir);
  // The readings shared by the load are made at once (not one after the other: the first package of a
  // load waited for each in turn); a refusal still comes in this order: unsafe directory, trust.json, lock.key.
  const [safe, trusted, sealKey] = await Promise.allSettled([load.assertSafeDir(dir), load.policy(), load.sealKey()]);
  if (safe.status === 'rejected') throw safe.reason;
  if (trusted.status === 'rejected') throw trusted.reason;
  if (sealKey.status === 'rejected') throw sealKey.reason;
  const policy = trusted.value;
  const key = sealKey.value;
  const { name, ...entry } = pkg;
  if (key === undefined || !sealMatches(key, name, entry as LockEntry)) throw await unsealedReason(pkg, home, policy, what);
  // The signer install verified must still be trusted for this name: trust.json may have changed since.
  const signer = parseSignerId(pkg.signer);
  if (!signer) throw new HostError('UNTRUSTED_SIGNER', `${what}: lock.json records no signer mcp-warden understands`);
  if (signer.kind === 'provenance') {
    // Offline re-verification from the kept copy; it includes the trust decision against today's trust.json.
    await reverifyNpm(pkg, home, policy, what);
  } else {
    const decision = findTrustedSigner(policy, signer, pkg.name);
    if (!decision.trusted) throw new HostError(decision.code, `${what}: ${decision.detail} (trust.json changed since install); trust its publisher again or remove the package`);
  }
  // The package's own checks are synchronous (a few calls on one directory; a promise for each was a
  // measurable part of serve's start-up with many packages); what the load shares is read once.
  let info;
  try {
    info = lstatSync(dir);
  } catch {
    throw new HostError('PACKAGE_INVALID', `${what} is missing from the home directory`);
  }
  if (!info.isDirectory()) throw new HostError('PACKAGE_INVALID', `${what} is not a directory`);
  const root = await load.packagesRoot();
  const real = realpathSync.native(dir);
  const rel = relative(root, real);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..') {
    throw new HostError('PACKAGE_INVALID', `${what} resolves outside the packages directory`);
  }
  // Fail closed: an entry without file digests was not written by install (or by an older one).
  if (!pkg.files || Object.keys(pkg.files).length === 0) {
    throw new HostError('INTEGRITY_MISMATCH', `${what}: lock.json records no file digests for it; reinstall it with "mcp-warden install"`);
  }
  const files = readVerifiedTree(real, pkg.files, what);
  return { name: pkg.name, version: pkg.version, integrity: pkg.integrity, signer: pkg.signer, dir: real, files };
}

/** Verifies one installed package; trust.json and lock.key are read for it. */
export const verifyInstalled: VerifyInstalled = (pkg, home) => verify(pkg, home, readingsOf(home));

/**
 * A verifier for one load of many packages (serve's start-up, a reload): trust.json is read and parsed
 * once, at the first verification, and every package of the load is judged against that one reading
 * (it was read and parsed once per package: ~27 ms of a 50-package start-up). So are lock.key and the
 * ownership and modes of packages/ and the home (six file-system calls per package before); each
 * package's own directory is still checked for that package.
 */
export function verifierForOneLoad(): VerifyInstalled {
  const loads = new Map<string, LoadReadings>();
  return (pkg, home) => {
    let load = loads.get(home.dir);
    if (load === undefined) {
      load = readingsOf(home);
      loads.set(home.dir, load);
    }
    return verify(pkg, home, load);
  };
}
