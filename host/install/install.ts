/**
 * `install` as a library: verify, check, ask, commit. The command (host/commands/install.ts) parses
 * flags and prints; this decides.
 *
 * Order (docs/signing.md, "What is checked"): the tarball is safe to read and the signature, integrity,
 * subject and signer verify against the home's trust policy (host/trust/verify-trusted.ts); the manifest
 * is valid and its entry file is in the tarball; the update rules hold (no downgrade, same signer, same
 * bytes for the same version); the user consents to the capabilities; then the package is committed
 * atomically (host/install/commit.ts). The first failure refuses and nothing in the home changes.
 *
 * A package from an npm registry (source.npm, host/install/npm-source.ts) is verified by its provenance
 * instead of a bundle (host/install/npm-verify.ts); the rest of the path is the same, plus: no runtime
 * dependencies, and an update must come from the same issuer, repository and workflow (not ref).
 */
import semver from 'semver';
import ssri from 'ssri';
import type { TrustMaterial } from '@sigstore/verify';
import { HostError } from '../errors.ts';
import { ensureHome, readLock } from '../home/home.ts';
import type { Home, LockEntry, LockGrant } from '../home/home.ts';
import { checkPackageFiles } from '../pack/limits.ts';
import { parsePackageManifest } from '../manifest.ts';
import type { PackageManifest } from '../manifest.ts';
import { readTarball } from '../pack/extract.ts';
import { loadHomeTrustMaterial } from '../signing/trust-root.ts';
import { loadTrustPolicy } from '../trust/policy.ts';
import { verifyInstalled } from '../home/verify-installed.ts';
import { verifyTrustedPackage } from '../trust/verify-trusted.ts';
import { commitInstall } from './commit.ts';
import { checkContentFiles } from '../serve/load-content.ts';
import { assertNoServedNameConflict } from './conflicts.ts';
import { describeAsks, describeRequest, lockAskFields } from './consent.ts';
import { installedManifest } from './regrant.ts';
import { describeSecrets, secretsWidened } from './secrets-consent.ts';
import type { ConsentSigner } from './consent.ts';
import type { CommitHooks } from './commit.ts';
import { digestFiles } from '../home/file-digests.ts';
import { diffGrants, planGrant } from './grant.ts';
import type { GrantDiff, SlotInfo } from './grant.ts';
import { withHomeMutex } from '../home/mutex.ts';
import { cleanOrphans } from '../home/recovery.ts';
import { readSealKey, sealMatches } from '../home/seal.ts';
import { describeSignerId, parseSignerId, signerId } from './signer.ts';
import { refineUntrusted } from './refine-untrusted.ts';
import { sameProvenanceSource } from '../provenance/facts.ts';
import type { NpmProvenance } from '../provenance/facts.ts';
import { NpmEvidence, cleanStore } from '../home/store.ts';
import { assertNoDependencies } from '../registry/resolve.ts';
import { verifyNpmPackage } from './npm-verify.ts';
import { readConfig } from '../home/config.ts';
import { describeFindings } from '../trust/definitions/checks.ts';
import type { DefinitionFinding } from '../trust/definitions/checks.ts';
import { definitionsDigest, describeDefinitionChanges } from '../trust/definitions/pin.ts';
import type { DefinitionChange } from '../trust/definitions/pin.ts';
import { assertFindingsAccepted, reviewDefinitions } from './definitions.ts';
import type { InstallSource } from './source.ts';
import { assertAllowed, assertDefinitionsAllowed, declaredSecrets } from '../policy/enforce.ts';
import { loadOrgPolicy } from '../policy/load.ts';
import type { OrgPolicy } from '../policy/parse.ts';

export interface InstallOptions {
  /** --grant SLOT=VALUE bindings. */
  readonly bindings: Readonly<Record<string, string>>;
  /** --yes: consent given in advance (for scripts). */
  readonly yes: boolean;
  readonly allowDowngrade: boolean;
  readonly trustNewSigner: boolean;
  /** --accept-findings: install despite definition findings of severity medium or high (not in strict mode). */
  readonly acceptFindings?: boolean;
  /** Sigstore trusted root for keyless bundles (default: the public-good root in keys/). */
  readonly trustMaterial?: TrustMaterial;
  /** Resolves relative --grant paths. */
  readonly cwd: string;
  /**
   * Asks the user (on a terminal) to consent to `summary`; absent when there is no terminal. Only called
   * when consent is needed and --yes was not given.
   */
  readonly ask?: (summary: string) => Promise<boolean>;
  readonly hooks?: CommitHooks;
  /** The organisation policy in force (host/policy/); default: the system-wide file alone. */
  readonly policy?: OrgPolicy;
}

/** What verification established, whichever the evidence (a bundle, or npm provenance). */
interface Verified {
  readonly name: string;
  readonly version: string;
  readonly integrity: string;
  /** The lock.json signer id. */
  readonly signer: string;
  readonly publisher: string;
  /** For a package from an npm registry: its verified provenance. */
  readonly provenance?: NpmProvenance;
}

export interface InstallResult extends Verified {
  readonly entry: LockEntry;
  readonly previousVersion?: string;
  /** Set for an update: how the grant changed. */
  readonly diff?: GrantDiff;
  readonly unbound: readonly SlotInfo[];
  readonly manifest: PackageManifest;
  /** What the definition checks found (host/trust/definitions/checks.ts). */
  readonly findings: readonly DefinitionFinding[];
  /** Set for an update: how the definitions changed since the consented version. */
  readonly definitionsDiff?: readonly DefinitionChange[];
}

/** Whether an update needs fresh consent: it gains a rule the user did not type in --grant just now. */
function needsConsent(diff: GrantDiff, grant: LockGrant, bindings: Readonly<Record<string, string>>): boolean {
  const typed = new Set(Object.entries(grant.slots).filter(([slot]) => bindings[slot] !== undefined).map(([, value]) => value));
  const byUser = (rule: string): boolean => typed.has(rule) || typed.has(rule.replace(/^(read|write):/, ''));
  return [...diff.added.net, ...diff.added.fs].some((r) => !byUser(r));
}


function verifySource(source: InstallSource, policy: Awaited<ReturnType<typeof loadTrustPolicy>>, material: TrustMaterial): Verified {
  if (source.npm) return verifyNpmPackage(source.tarball, source.npm, policy, material);
  let trusted;
  try {
    trusted = verifyTrustedPackage(source.tarball, source.bundleJson, policy, { trustMaterial: material });
  } catch (e) {
    throw refineUntrusted(e, source.tarball, source.bundleJson, policy, material);
  }
  return { name: trusted.package.name, version: trusted.package.version, integrity: trusted.package.integrity, signer: signerId(trusted.signer), publisher: trusted.publisher.name };
}

/** Whether an update's signer is the installed version's: the same id, or the same provenance source (the ref may differ). */
function sameSigner(installed: string, update: string): boolean {
  if (installed === update) return true;
  const a = parseSignerId(installed);
  const b = parseSignerId(update);
  return a?.kind === 'provenance' && b?.kind === 'provenance' && sameProvenanceSource(a, b);
}

/** The runtime dependencies a package.json declares. */
function runtimeDependencies(json: unknown): string[] {
  const j = json as { dependencies?: unknown; optionalDependencies?: unknown };
  const keys = (o: unknown): string[] => (typeof o === 'object' && o !== null && !Array.isArray(o) ? Object.keys(o) : []);
  return [...new Set([...keys(j.dependencies), ...keys(j.optionalDependencies)])];
}

/** The verified, checked package, before any change to the home. */
function verifyAndCheck(source: InstallSource, policy: Awaited<ReturnType<typeof loadTrustPolicy>>, material: TrustMaterial): { pm: PackageManifest; trusted: Verified; files: ReturnType<typeof readTarball> } {
  const trusted = verifySource(source, policy, material);
  // Belt and braces: the bytes we are about to extract are the ones whose integrity was signed.
  try {
    ssri.checkData(source.tarball, trusted.integrity, { error: true });
  } catch (e) {
    throw new HostError('INTEGRITY_MISMATCH', 'the tarball does not match its signed integrity', { cause: e });
  }
  const files = readTarball(source.tarball);
  const pkgJson = files.find((f) => f.path === 'package.json');
  if (!pkgJson) throw new HostError('TARBALL_INVALID', 'tarball: has no package/package.json');
  let json: unknown;
  try {
    json = JSON.parse(pkgJson.data.toString('utf8'));
  } catch {
    throw new HostError('MANIFEST_INVALID', 'package.json is not valid JSON');
  }
  const pm = parsePackageManifest(json);
  // The statement's subject was checked against this package.json by verification; a mismatch here would
  // mean two different readings of one tarball (for npm: a registry serving another package's tarball
  // under this name, with attestations for that name).
  if (pm.name !== trusted.name || pm.version !== trusted.version) {
    throw new HostError('SUBJECT_MISMATCH', `the signed statement is for ${trusted.name}@${trusted.version}, the tarball holds ${pm.name}@${pm.version}`);
  }
  // The tarball's package.json is the truth, whatever the packument said.
  if (source.npm) assertNoDependencies(`${pm.name}@${pm.version}`, runtimeDependencies(json));
  const sizes = new Map(files.map((f) => [f.path, f.data.length]));
  checkPackageFiles(pm.name, pm.manifest.entry, sizes);
  // What serve would refuse in the resource files and icons the manifest names (its own check).
  checkContentFiles(pm, sizes, pm.name);
  return { pm, trusted, files };
}

/**
 * Installs (or updates) a package into the home.
 * @throws HostError — any verification or policy refusal; nothing in the home has changed then.
 */
export async function installPackage(home: Home, source: InstallSource, options: InstallOptions): Promise<InstallResult> {
  const org = options.policy ?? (await loadOrgPolicy());
  const policy = await loadTrustPolicy(home.trustFile);
  // --trusted-root, else the home's trusted_root.json (trust refresh-root), else the public-good root in keys/.
  const material = options.trustMaterial ?? (await loadHomeTrustMaterial(home));
  const { pm, trusted, files } = verifyAndCheck(source, policy, material);
  const signer = trusted.signer;
  // The organisation policy narrows what trust.json allows: signer, blocked names and digests, secrets.
  const facts = { name: pm.name, signer, integrity: trusted.integrity, secrets: declaredSecrets(pm) };
  assertAllowed(org, facts);
  await ensureHome(home);
  const config = await readConfig(home);

  return withHomeMutex(home, async () => {
    const lock = await readLock(home);
    // Recovery: whatever an interrupted earlier run left behind goes first.
    await cleanOrphans(home, lock);
    const previous = lock.packages[pm.name];
    if (previous) {
      if (semver.valid(previous.version) && semver.lt(pm.version, previous.version) && !options.allowDowngrade) {
        throw new HostError('VERSION_DOWNGRADE', `${pm.name}@${previous.version} is installed; ${pm.version} is older (--allow-downgrade to install it anyway)`);
      }
      if (previous.version === pm.version && previous.integrity !== trusted.integrity) {
        throw new HostError('VERSION_CONFLICT', `${pm.name}@${pm.version} is installed with other contents (${previous.integrity.slice(0, 24)}…): the same version cannot change`);
      }
      if (!sameSigner(previous.signer, signer) && !options.trustNewSigner) {
        const how = trusted.provenance ? `was built by ${describeSignerId(previous.signer)}, this update by another issuer, repository or workflow (${describeSignerId(signer)})` : 'was installed from another signer than this update\'s';
        throw new HostError('SIGNER_CHANGED', `${pm.name} ${how} (--trust-new-signer to accept ${trusted.publisher})`);
      }
    }
    // Names and URI spaces stay unique across scopes: a collision is refused here, never resolved by order at serve.
    await assertNoServedNameConflict(home, lock, pm);
    // Only a sealed record carries the user's earlier choices: a grant another writer put into lock.json
    // must not be carried over into a freshly sealed record, nor spare the user the consent prompt.
    const key = previous ? await readSealKey(home) : undefined;
    const consented = previous && key && sealMatches(key, pm.name, previous) ? previous : undefined;
    const { grant, unbound, asks, refusals } = await planGrant(pm, options.bindings, consented?.grant, options.cwd, home, consented?.refusals);
    const diff = diffGrants(consented?.grant, grant);
    assertAllowed(org, { ...facts, grant }); // the grant against the policy's ceilings, before consent
    // What the model will read: findings need acceptance (strict mode refuses), changes need consent.
    const review = await reviewDefinitions(home, lock, pm, trusted.integrity, consented);
    assertDefinitionsAllowed(org, pm, review.findings); // the policy's strict mode, whatever config.json says
    assertFindingsAccepted(pm, review.findings, options.acceptFindings === true, config.trust.strictDefinitions);
    // Secrets: an update that adds one or widens where one may go needs consent like a new rule (the
    // consented version's manifest, from its verified files; unreadable: every binding is new).
    const widened = consented ? secretsWidened(await installedManifest(home, { name: pm.name, ...consented }).catch(() => undefined), pm) : [];
    const escalates = consented !== undefined && (needsConsent(diff, grant, options.bindings) || widened.length > 0);
    const redefines = consented !== undefined && review.changes.length > 0;
    // A new package always needs consent (it will run); an update when it gains capabilities or secrets,
    // or changes its definitions. No terminal never implies consent.
    if ((!consented || escalates || redefines) && !options.yes) {
      const summary = describeForConsent(pm, consented, grant, unbound, diff, { signer: describeSignerId(signer), publisher: trusted.publisher, ...(trusted.provenance ? { provenance: trusted.provenance } : {}) }) + describeAsks(asks, refusals) + describeDefinitionReview(review.findings, review.changes) + describeSecrets(pm, consented ? widened : undefined);
      const agreed = options.ask ? await options.ask(summary) : false;
      if (!agreed) {
        if (consented && escalates) throw new HostError('POLICY_ESCALATION', `${pm.name}@${pm.version} asks for capabilities ${consented.version} was not granted; review them and consent on a terminal or with --yes`);
        if (consented) throw new HostError('DEFINITIONS_CHANGED', `${pm.name}@${pm.version} changes the tool/prompt/resource definitions ${consented.version} was installed with (${review.changes.length} change(s)); review them and consent on a terminal or with --yes`);
        throw new HostError('CONSENT_REQUIRED', options.ask ? 'installation declined' : `${pm.name} needs your consent to its capabilities: run on a terminal, or pass --yes (and --grant SLOT=VALUE)`);
      }
    }
    // Reinstalling the installed version: keep its directory if it is intact, else extract afresh (repair).
    let reuseDir: string | undefined;
    if (previous && previous.version === pm.version) {
      reuseDir = await verifyInstalled({ name: pm.name, ...previous }, home).then(
        () => previous.dir,
        () => undefined,
      );
    }
    const { entry, lock: committed } = await commitInstall(
      home,
      lock,
      pm.name,
      source.tarball,
      // A package from npm keeps its attestations and the registry keys, for serve to re-verify offline.
      source.npm ? new NpmEvidence(source.npm.attestations, source.npm.keys) : source.bundleJson,
      {
        version: pm.version,
        integrity: trusted.integrity,
        signer,
        // Sealed with the entry: what list and consent show, re-checked against the kept attestations at serve.
        ...(trusted.provenance ? { provenance: trusted.provenance } : {}),
        grant,
        installedAt: new Date().toISOString(),
        files: digestFiles(files),
        // Pinned: serve refuses the package if what it would tell the model differs (host/serve/loader.ts).
        definitions: definitionsDigest(pm.manifest),
        // Asked at first use, not granted (docs/consent.md); earlier refusals of rules still asked carry over.
        ...lockAskFields(asks, refusals),
        // The user's own settings (grant --fresh, --limit) outlive an update: they only ever narrow.
        ...(previous?.settings ? { settings: previous.settings } : {}),
      },
      options.hooks,
      reuseDir,
    );
    // After the commit: the previous version's kept copy is no longer named by the lock (as its directory).
    await cleanStore(home, committed);
    return {
      name: pm.name,
      version: pm.version,
      integrity: trusted.integrity,
      signer,
      publisher: trusted.publisher,
      ...(trusted.provenance ? { provenance: trusted.provenance } : {}),
      entry,
      ...(previous ? { previousVersion: previous.version, diff } : {}),
      unbound,
      manifest: pm,
      findings: review.findings,
      ...(previous ? { definitionsDiff: review.changes } : {}),
    };
  });
}

function describeForConsent(pm: PackageManifest, previous: LockEntry | undefined, grant: LockGrant, unbound: readonly SlotInfo[], diff: GrantDiff, signer: ConsentSigner): string {
  return describeRequest(pm, grant, unbound, previous ? diff : undefined, signer);
}

/** The definition findings and changes, as lines for the consent prompt (empty when there are none). */
export function describeDefinitionReview(findings: readonly DefinitionFinding[], changes: readonly DefinitionChange[]): string {
  const lines = describeDefinitionChanges(changes).map((l) => `${l}\n`).join('');
  return findings.length === 0 ? lines : `${lines}Definition findings (docs/definition-checks.md):\n${describeFindings(findings)}`;
}
