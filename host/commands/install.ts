/**
 * `mcp-warden install TARBALL_OR_HTTPS_URL` and `mcp-warden install [npm:]NAME[@RANGE]`: verifies a signed
 * package (a bundle, or npm provenance) against the home's trust policy, shows what it asks for, asks for
 * consent, and installs it atomically (host/install/install.ts).
 */
import { resolve } from 'node:path';
import { HostError } from '../errors.ts';
import { homeLayout, resolveHomeDir } from '../home/home.ts';
import { askConsent, canPrompt, describeAsks, describeRequest } from '../install/consent.ts';
import { describeSecrets } from '../install/secrets-consent.ts';
import { parseSlotBindings } from '../install/grant.ts';
import { describeDefinitionReview, installPackage } from '../install/install.ts';
import { describeSignerId } from '../install/signer.ts';
import { readInstallSource } from '../install/source.ts';
import { readNpmSource, registrySpecOf } from '../install/npm-source.ts';
import { loadTrustMaterial } from '../signing/trust-root.ts';
import { extraPolicyFiles, loadOrgPolicy } from '../policy/load.ts';
import { parseFlags, runCommand, writeJson } from './cli-support.ts';
import type { CommandIO } from './io.ts';

export const USAGE = `Usage: mcp-warden install TARBALL_OR_HTTPS_URL [--bundle FILE] [--yes] [--grant SLOT=VALUE]...
                          [--accept-findings] [--allow-downgrade] [--trust-new-signer] [--trusted-root FILE] [--policy FILE]... [--home DIR] [--json]
       mcp-warden install [npm:]NAME[@VERSION|@RANGE|@TAG] [--yes] [--grant SLOT=VALUE]... [same options, no --bundle]

Installs a signed tool package into the home directory. In order: the tarball is read under size caps;
its Sigstore bundle (--bundle, else TARBALL.sigstore.json, or URL.sigstore.json) must verify: integrity,
the statement naming this package's name, version and digest, and a signer trusted for this package
name (see "mcp-warden trust"); the manifest must be valid and its entry file present. Then the
capabilities it asks for are shown and you are asked to consent (on a terminal; --yes for scripts), and
the package is installed atomically and recorded in <home>/lock.json.

From the npm registry (docs/npm-install.md): NAME[@RANGE] is resolved as npm does, against your npm
configuration (registry, @scope:registry and their credentials from ~/.npmrc, the project's .npmrc and
npm_config_* variables); the tarball must match the registry's dist.integrity, and its npm provenance
must verify (the SLSA provenance and the registry's publish attestation, both for this name, version and
digest) and come from a repository and workflow trusted with "mcp-warden trust add-provenance". Packages
with runtime dependencies are refused. An argument that is an existing file or a URL is a tarball.

Updates: a lower version is refused unless --allow-downgrade; another signer than the installed
version's is refused unless --trust-new-signer (for npm: another issuer, repository or workflow; a new
release tag is the same signer); capabilities the installed version was not granted are
shown as a diff and need fresh consent; so do changed tool, prompt and resource definitions (added or
removed ones, changed descriptions, schemas, annotations: shown as a diff too).

Definitions (names, descriptions, schemas, prompts) are checked for tool poisoning (hidden characters,
instructions aimed at the model, look-alike names, other packages' tool names, URLs): findings are
shown, and one of severity medium or high needs --accept-findings (strict mode in config.json refuses
it anyway). See docs/definition-checks.md; "mcp-warden inspect" shows them without installing.

Options:
  --bundle FILE         the Sigstore bundle (default: TARBALL.sigstore.json)
  --yes                 consent to the capabilities shown (non-interactive)
  --grant SLOT=VALUE    bind a slot: a directory for a file slot, a network rule for a host slot (repeatable)
  --accept-findings     install despite definition findings of severity medium or high
  --allow-downgrade     allow installing a lower version than the installed one
  --trust-new-signer    allow an update signed by another (trusted) signer than the installed version
  --trusted-root FILE   Sigstore trusted root for keyless bundles (default: the public-good root in keys/)
  --policy FILE         also apply this organisation policy (repeatable; as $MCP_WARDEN_POLICY): it can
                        only add restrictions to the system-wide one (docs/policy.md)
  --home DIR            home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --json                machine-readable output
  --help                show this help

Exit status: 0 installed, 1 refused (nothing changed), 2 usage error.
`;

const OPTIONS = {
  bundle: { type: 'string' },
  yes: { type: 'boolean' },
  'accept-findings': { type: 'boolean' },
  grant: { type: 'string', multiple: true },
  'allow-downgrade': { type: 'boolean' },
  'trust-new-signer': { type: 'boolean' },
  'trusted-root': { type: 'string' },
  policy: { type: 'string', multiple: true },
  home: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

export function run(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, 'install', USAGE, argv, async (json) => {
    const { values, positionals } = parseFlags(argv, OPTIONS);
    if (positionals.length !== 1) throw new HostError('USAGE', 'expected exactly one tarball, https URL or npm package name');
    const bindings = parseSlotBindings(values.grant ?? []);
    const home = homeLayout(resolveHomeDir(values.home, io.env, io.cwd));
    const trustMaterial = values['trusted-root'] ? loadTrustMaterial(resolve(io.cwd, values['trusted-root'])) : undefined;
    const policy = await loadOrgPolicy({ extraFiles: extraPolicyFiles(values.policy, io.env, io.cwd) });
    const arg = positionals[0] as string;
    const npmSpec = registrySpecOf(arg, io.cwd);
    if (npmSpec && values.bundle !== undefined) throw new HostError('USAGE', '--bundle is for a tarball; a package from npm is verified by its provenance');
    const source = npmSpec ? await readNpmSource(npmSpec, { cwd: io.cwd, env: io.env }) : await readInstallSource(arg, values.bundle, io.cwd);
    const interactive = !json && canPrompt(io);
    // The summary is shown once: at the prompt when there is one, else after installing.
    let shown = false;
    const r = await installPackage(home, source, {
      bindings,
      yes: values.yes === true,
      allowDowngrade: values['allow-downgrade'] === true,
      acceptFindings: values['accept-findings'] === true,
      trustNewSigner: values['trust-new-signer'] === true,
      cwd: io.cwd,
      policy,
      ...(trustMaterial ? { trustMaterial } : {}),
      ...(interactive
        ? {
            ask: (summary: string) => {
              shown = true;
              return askConsent(io, `${summary}Install it with these capabilities? [y/N] `);
            },
          }
        : {}),
    });
    if (json) {
      writeJson(io, {
        ok: true,
        name: r.name,
        version: r.version,
        integrity: r.integrity,
        signer: r.signer,
        publisher: r.publisher,
        ...(r.provenance ? { provenance: r.provenance, registry: source.npm?.registry } : {}),
        grant: r.entry.grant,
        ...(r.entry.asks ? { asks: r.entry.asks } : {}),
        dir: r.entry.dir,
        ...(r.previousVersion ? { previousVersion: r.previousVersion, diff: r.diff } : {}),
        unboundSlots: r.unbound.map((s) => s.slot),
        findings: r.findings,
        ...(r.definitionsDiff ? { definitionsDiff: r.definitionsDiff } : {}),
      });
    } else {
      if (!shown) io.stdout.write(describeRequest(r.manifest, r.entry.grant, r.unbound, r.diff, { signer: describeSignerId(r.signer), publisher: r.publisher, ...(r.provenance ? { provenance: r.provenance } : {}) }) + describeDefinitionReview(r.findings, r.definitionsDiff ?? []) + describeSecrets(r.manifest));
      if (!shown && r.entry.asks) io.stdout.write(describeAsks(r.entry.asks, r.entry.refusals));
      const from = r.previousVersion ? ` (was ${r.previousVersion})` : '';
      io.stdout.write(`installed ${r.name}@${r.version}${from}\n  signer:    ${describeSignerId(r.signer)} (trusted as ${r.publisher})\n  integrity: ${r.integrity}\n`);
    }
    return 0;
  });
}
