/**
 * Install's review of a package's definitions (issue 11): the poisoning findings (host/trust/definitions/
 * checks.ts) against the other installed packages' tool names, and for an update the diff between the
 * consented version's definitions and the new ones.
 *
 * Threat: definitions are what the model reads. A finding of severity medium or high installs only with
 * --accept-findings (never in strict mode); a changed definition needs consent as a changed capability
 * does, so an update signed by the same key cannot rewrite what the model is told unseen.
 */
import ssri from 'ssri';
import { HostError } from '../errors.ts';
import { readKeptPackage } from '../home/store.ts';
import { readTarball } from '../pack/extract.ts';
import type { Home, LockEntry, LockFile } from '../home/home.ts';
import { verifyInstalled } from '../home/verify-installed.ts';
import { parsePackageManifest } from '../manifest.ts';
import type { PackageManifest } from '../manifest.ts';
import { atLeastMedium, checkDefinitions, describeFindings } from '../trust/definitions/checks.ts';
import type { DefinitionFinding } from '../trust/definitions/checks.ts';
import { diffDefinitions, pinDefinitions } from '../trust/definitions/pin.ts';
import type { DefinitionChange } from '../trust/definitions/pin.ts';
import { installedManifest, toolNamesOf } from './conflicts.ts';

export interface DefinitionsReview {
  readonly findings: readonly DefinitionFinding[];
  /** For an update: what changed since the consented version (every definition, when that cannot be read). */
  readonly changes: readonly DefinitionChange[];
}

/** The tool names (namespaced and bare) of every other installed package. */
async function otherToolNames(home: Home, lock: LockFile, self: string): Promise<string[]> {
  const out: string[] = [];
  for (const [name, entry] of Object.entries(lock.packages)) {
    if (name === self) continue;
    const other = await installedManifest(home, entry.dir);
    if (other) out.push(...toolNamesOf(other), ...other.manifest.tools.map((t) => t.name));
  }
  return out;
}

/** The consented version's manifest, from its verified files; undefined when it no longer verifies. */
async function consentedManifest(home: Home, name: string, consented: LockEntry): Promise<PackageManifest | undefined> {
  try {
    const v = await verifyInstalled({ name, ...consented }, home);
    const pkgJson = v.files.get('package.json');
    return pkgJson ? parsePackageManifest(JSON.parse(pkgJson.toString('utf8')) as unknown) : undefined;
  } catch {
    return keptManifest(home, consented.integrity);
  }
}

/** The manifest from the kept signed copy (host/home/store.ts), when its bytes match the recorded integrity. */
async function keptManifest(home: Home, integrity: string): Promise<PackageManifest | undefined> {
  try {
    const kept = await readKeptPackage(home, integrity);
    if (!kept || !ssri.checkData(kept.tarball, integrity)) return undefined;
    const pkgJson = readTarball(kept.tarball).find((f) => f.path === 'package.json');
    return pkgJson ? parsePackageManifest(JSON.parse(pkgJson.data.toString('utf8')) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

export async function reviewDefinitions(home: Home, lock: LockFile, pm: PackageManifest, integrity: string, consented: LockEntry | undefined): Promise<DefinitionsReview> {
  const findings = checkDefinitions(pm.manifest, { otherTools: await otherToolNames(home, lock, pm.name) });
  let changes: DefinitionChange[] = [];
  // The same tarball (a reinstall or repair) has the same definitions by construction.
  if (consented && consented.integrity !== integrity) {
    const before = await consentedManifest(home, pm.name, consented);
    changes = diffDefinitions(before ? pinDefinitions(before.manifest) : undefined, pinDefinitions(pm.manifest));
  }
  return { findings, changes };
}

/**
 * Refuses a package with findings of severity medium or high: always in strict mode, else unless accepted.
 * @throws HostError DEFINITIONS_REFUSED, FINDINGS_NOT_ACCEPTED
 */
export function assertFindingsAccepted(pm: PackageManifest, findings: readonly DefinitionFinding[], accepted: boolean, strict: boolean): void {
  const serious = findings.filter(atLeastMedium);
  if (serious.length === 0) return;
  const list = describeFindings(serious.slice(0, 8)).trimEnd().replace(/\n\s*/g, '; ');
  if (strict) throw new HostError('DEFINITIONS_REFUSED', `${pm.name}@${pm.version}: strict mode (config.json trust.strictDefinitions) refuses its definitions: ${list}`);
  if (!accepted) throw new HostError('FINDINGS_NOT_ACCEPTED', `${pm.name}@${pm.version}: its definitions have ${serious.length} finding(s) to review: ${list}; inspect it ("mcp-warden inspect"), then pass --accept-findings to install it anyway`);
}
