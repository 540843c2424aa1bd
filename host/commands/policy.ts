/**
 * `mcp-warden policy check|show|schema`: the organisation policy in force (docs/policy.md) and, for each
 * installed package, what it allows and refuses and why. Offline: it reads the home and the policy files
 * and loads each package as serve would (verification included), without the policy, then checks it.
 */
import { HostError, isHostError } from '../errors.ts';
import { homeLayout, installedPackages, readLock, resolveHomeDir } from '../home/home.ts';
import type { Home, InstalledPackage } from '../home/home.ts';
import { verifyInstalled } from '../home/verify-installed.ts';
import type { VerifiedInstall } from '../home/verify-installed.ts';
import { parsePackageManifest } from '../manifest.ts';
import { loadPackage } from '../serve/loader.ts';
import { checkDefinitions } from '../trust/definitions/checks.ts';
import { checkPackage, clampLimits, strictDefinitions } from '../policy/check.ts';
import type { PolicyRefusal } from '../policy/check.ts';
import { describeClamped, describeLayer, describeRefusal } from '../policy/describe.ts';
import { definitionsRefusal } from '../policy/enforce.ts';
import { extraPolicyFiles, loadOrgPolicy, systemPolicyPath } from '../policy/load.ts';
import { policySchema } from '../policy/parse.ts';
import type { OrgPolicy } from '../policy/parse.ts';
import { HOME_OPTION, defineCommand, writeJson } from './cli-support.ts';
import type { CommandIO } from './io.ts';

export const USAGE = `Usage: mcp-warden policy check [--policy FILE]... [--home DIR] [--json]
       mcp-warden policy show [--policy FILE]... [--json]
       mcp-warden policy schema

The organisation policy (docs/policy.md): the system-wide managed file (${systemPolicyPath()}),
plus --policy files and $MCP_WARDEN_POLICY, which can only add restrictions. install and serve enforce it.

  check    for each installed package: whether the policy allows it (signer, blocked names and
           digests, capability ceilings, strict definition checks), why not, and the limits it lowers
  show     the policy in force, file by file
  schema   print the published JSON Schema of a policy file

Options:
  --policy FILE  also apply this policy file (repeatable)
  --home DIR     home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --json         machine-readable output
  --help         show this help

Exit status (check): 0 every installed package is allowed, 1 a package would be refused (or a policy
file is invalid: POLICY_INVALID), 2 usage error.
`;

const OPTIONS = { ...HOME_OPTION, policy: { type: 'string', multiple: true } } as const;

interface PackageReport {
  readonly name: string;
  readonly version: string;
  readonly signer: string;
  readonly allowed: boolean;
  readonly refusals: readonly PolicyRefusal[];
  /** Refused for another reason than the policy (serve would not serve it either). */
  readonly error?: { readonly code: string; readonly message: string };
  /** Limits the policy lowers: "memoryMb 128 → 32". */
  readonly clamped: readonly string[];
}

function errorOf(e: unknown): { code: string; message: string } {
  return { code: isHostError(e) ? e.code : 'PACKAGE_INVALID', message: e instanceof Error ? e.message : String(e) };
}

/** One installed package, loaded as serve loads it (without the policy), then checked against it. */
async function checkInstalled(home: Home, entry: InstalledPackage, policy: OrgPolicy): Promise<PackageReport> {
  const base = { name: entry.name, version: entry.version, signer: entry.signer };
  let verified: VerifiedInstall | undefined;
  try {
    const pkg = await loadPackage({ kind: 'installed', entry }, { home, verify: async (p, h) => (verified = await verifyInstalled(p, h)) });
    const pm = parsePackageManifest(JSON.parse((verified?.files.get('package.json') ?? Buffer.from('{}')).toString('utf8')) as unknown);
    const refusals = checkPackage(policy, { name: entry.name, signer: entry.signer, integrity: entry.integrity, grant: pkg.grantRules, secrets: Object.keys(pkg.secrets ?? {}) });
    const strict = definitionsRefusal(policy, strictDefinitions(policy) ? checkDefinitions(pm.manifest) : []);
    if (strict) refusals.push(strict);
    return { ...base, allowed: refusals.length === 0, refusals, clamped: describeClamped(pkg.limits, clampLimits(policy, pkg.limits)) };
  } catch (e) {
    return { ...base, allowed: false, refusals: [], error: errorOf(e), clamped: [] };
  }
}

function printReport(io: CommandIO, r: PackageReport): void {
  io.stdout.write(`${r.name}@${r.version}: ${r.allowed ? 'allowed' : 'REFUSED'}\n`);
  for (const x of r.refusals) io.stdout.write(`  ${describeRefusal(x)}\n`);
  if (r.error) io.stdout.write(`  not served whatever the policy says: ${r.error.code}: ${r.error.message}\n`);
  if (r.clamped.length > 0) io.stdout.write(`  limits lowered by the policy: ${r.clamped.join(', ')}\n`);
}

export const run = defineCommand('policy', USAGE, OPTIONS, async ({ values, positionals }, io, json) => {
  const [sub, ...rest] = positionals;
  if (rest.length > 0 || (sub !== 'check' && sub !== 'show' && sub !== 'schema')) throw new HostError('USAGE', 'expected "policy check", "policy show" or "policy schema"');
  if (sub === 'schema') {
    io.stdout.write(`${JSON.stringify(policySchema(), null, 2)}\n`);
    return 0;
  }
  const policy = await loadOrgPolicy({ extraFiles: extraPolicyFiles(values.policy, io.env, io.cwd) });
  if (sub === 'show') {
    if (json) writeJson(io, { ok: true, system: systemPolicyPath(), layers: policy.layers });
    else if (policy.layers.length === 0) io.stdout.write(`no organisation policy in force (system-wide file: ${systemPolicyPath()})\n`);
    else io.stdout.write(`${policy.layers.flatMap(describeLayer).join('\n')}\n`);
    return 0;
  }
  const home = homeLayout(resolveHomeDir(values.home, io.env, io.cwd));
  const reports: PackageReport[] = [];
  for (const entry of installedPackages(await readLock(home))) reports.push(await checkInstalled(home, entry, policy));
  const ok = reports.every((r) => r.allowed);
  if (json) writeJson(io, { ok, policies: policy.layers.map((l) => l.source), packages: reports });
  else {
    io.stdout.write(policy.layers.length === 0 ? `no organisation policy in force (system-wide file: ${systemPolicyPath()})\n` : `policies: ${policy.layers.map((l) => l.source).join(', ')}\n`);
    if (reports.length === 0) io.stdout.write('no installed packages\n');
    for (const r of reports) printReport(io, r);
  }
  return ok ? 0 : 1;
});
