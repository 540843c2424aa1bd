/**
 * `mcp-warden trust add-key|add-identity|add-provenance|list|remove`: the publishers this home trusts
 * (<home>/trust.json), each optionally limited to a scope of package names; and
 * `trust refresh-root [--from FILE]`: the home's Sigstore trusted root (<home>/trusted_root.json).
 */
import { join, resolve } from 'node:path';
import { HostError, isHostError } from '../errors.ts';
import { homeLayout, resolveHomeDir } from '../home/home.ts';
import { GITHUB_ACTIONS_ISSUER } from '../provenance/facts.ts';
import { keyIdOf, parsePublicKeyPem, publicKeyPem } from '../signing/keys.ts';
import { fetchTrustedRootViaTuf, writeHomeTrustedRoot } from '../signing/trust-root.ts';
import type { TrustedRootSummary } from '../signing/trust-root.ts';
import { addPublisher, loadTrustPolicy, parsePublisher, parseScope, removePublisher, saveTrustPolicy } from '../trust/policy.ts';
import type { Publisher, TrustPolicy } from '../trust/policy.ts';
import { parseFlags, readUserFile, runCommand, writeJson } from './cli-support.ts';
import type { CommandIO } from './io.ts';

export const USAGE = `Usage: mcp-warden trust add-key PUB --name NAME [--scope SCOPE]... [--home DIR] [--json]
       mcp-warden trust add-identity --certificate-identity ID --certificate-oidc-issuer ISS
                                     [--name NAME] [--scope SCOPE]... [--home DIR] [--json]
       mcp-warden trust add-provenance --repo HOST/OWNER/REPO [--workflow FILE] [--ref REF]
                                       [--issuer URL] [--name NAME] [--scope SCOPE]... [--home DIR] [--json]
       mcp-warden trust list [--home DIR] [--json]
       mcp-warden trust remove NAME [--home DIR] [--json]
       mcp-warden trust refresh-root [--from FILE | --mirror URL [--tuf-root FILE]] [--home DIR] [--json]

Manages the publishers whose signatures "mcp-warden install" accepts (stored in <home>/trust.json).
A key publisher is pinned by its public key; a keyless publisher by its exact certificate identity and
OIDC issuer (for GitHub Actions: the workflow URL, e.g.
https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/heads/main, and the issuer
https://token.actions.githubusercontent.com).

A provenance publisher vouches for npm packages by their provenance ("npm publish --provenance"): the
repository, workflow file and git ref that the Sigstore certificate of the package's SLSA provenance
names, from an OIDC issuer. Repository and issuer are compared exactly; --workflow and --ref too,
except where you write "*" (within one path segment: "refs/tags/*" matches refs/tags/v1.2.0, not
refs/heads/main). Without --workflow any workflow of the repository is trusted; without --ref any ref.
Example: trust add-provenance --repo github.com/acme/weather-tool
           --workflow .github/workflows/release.yml --ref 'refs/tags/*' --scope '@acme/*'

A scope limits the packages a publisher may sign: an exact name ("@acme/echo", "echo") or every
package of one npm scope ("@acme/*"). Without --scope, the publisher may sign any package.

refresh-root replaces <home>/trusted_root.json, which install and serve then use instead of the
public-good root shipped with mcp-warden: online through Sigstore's TUF repository (signed metadata,
cached in <home>/tuf-cache), or offline from a trusted root file (--from, e.g. for an air-gapped
machine or a private Sigstore instance). It never runs by itself. Delete the file to go back to the
shipped root.

Options:
  --name NAME                      the publisher's name in trust.json (default: the identity, or the repository)
  --scope SCOPE                    a package name or "@scope/*" (repeatable)
  --certificate-identity ID        keyless identity, compared exactly
  --certificate-oidc-issuer ISS    its OIDC issuer, compared exactly
  --repo HOST/OWNER/REPO           add-provenance: the source repository, e.g. github.com/acme/weather-tool
  --workflow FILE                  add-provenance: the workflow file, e.g. .github/workflows/release.yml
  --ref REF                        add-provenance: the git ref, e.g. refs/tags/* or refs/heads/main
  --issuer URL                     add-provenance: the OIDC issuer (default ${GITHUB_ACTIONS_ISSUER})
  --from FILE                      refresh-root: take this trusted_root.json instead of asking TUF
  --mirror URL                     refresh-root: the TUF mirror (default Sigstore's public-good one)
  --tuf-root FILE                  refresh-root: the TUF root.json to start from (for another mirror)
  --home DIR                       home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --json                           machine-readable output
  --help                           show this help
`;

const OPTIONS = {
  name: { type: 'string' },
  scope: { type: 'string', multiple: true },
  'certificate-identity': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  repo: { type: 'string' },
  workflow: { type: 'string' },
  ref: { type: 'string' },
  issuer: { type: 'string' },
  from: { type: 'string' },
  mirror: { type: 'string' },
  'tuf-root': { type: 'string' },
  home: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

// Bidi controls, zero-width and other invisible format characters (Unicode category Cf): a name shown at
// consent and in `list` must read as what it is ("acme\u202Eevil" displays as "acmelive").
const INVISIBLE = /\p{Cf}/u;

/** Refuses a name that would display as something else. @throws HostError TRUST_INVALID */
function checkName(name: string): string {
  if (INVISIBLE.test(name)) throw new HostError('TRUST_INVALID', `the publisher name ${JSON.stringify(name.slice(0, 100))} holds invisible or bidirectional control characters`);
  return name;
}

/** Refuses a publisher already trusted under another name (a second entry could widen its scope unseen). @throws HostError TRUST_INVALID */
function samePublisher(p: Publisher, q: Publisher): boolean {
  if (p.kind === 'key') return q.kind === 'key' && q.keyId === p.keyId;
  if (p.kind === 'identity') return q.kind === 'identity' && q.identity === p.identity && q.issuer === p.issuer;
  return q.kind === 'provenance' && q.repository === p.repository && q.issuer === p.issuer && q.workflow === p.workflow && q.ref === p.ref;
}

function describeWho(p: Publisher): string {
  if (p.kind === 'key') return `key ${p.keyId}`;
  if (p.kind === 'identity') return `identity ${p.identity} (issuer ${p.issuer})`;
  return `provenance ${p.repository}, workflow ${p.workflow ?? 'any'}, ref ${p.ref ?? 'any'} (issuer ${p.issuer})`;
}

function checkNotTrusted(policy: TrustPolicy, p: Publisher): void {
  const same = policy.publishers.find((q) => samePublisher(p, q));
  if (same) throw new HostError('TRUST_INVALID', `${describeWho(p)} is already trusted as "${same.name}" (remove it first to change its scope)`);
}

function describePublisher(p: Publisher): string {
  return `${p.name}: ${describeWho(p)}; scope: ${p.scope ? p.scope.join(', ') : 'any package'}`;
}

function describeRoot(s: TrustedRootSummary): string {
  return `${s.certificateAuthorities} certificate authorities, ${s.tlogs} transparency logs, ${s.ctlogs} CT logs, ${s.timestampAuthorities} timestamp authorities`;
}

export function run(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, 'trust', USAGE, argv, async (json) => {
    const { values, positionals } = parseFlags(argv, OPTIONS);
    const [sub, ...args] = positionals;
    const home = homeLayout(resolveHomeDir(values.home, io.env, io.cwd));
    const scope = values.scope?.map(parseScope);
    const withScope = scope ? { scope } : {};
    const provenanceFlags = ['repo', 'workflow', 'ref', 'issuer'] as const;
    if (sub !== 'add-provenance' && provenanceFlags.some((f) => values[f] !== undefined)) throw new HostError('USAGE', `--repo, --workflow, --ref and --issuer belong to trust add-provenance`);
    if (sub !== 'refresh-root' && (values.from !== undefined || values.mirror !== undefined || values['tuf-root'] !== undefined)) throw new HostError('USAGE', '--from, --mirror and --tuf-root belong to trust refresh-root');
    if (sub === 'refresh-root') {
      if (args.length !== 0 || values.name || values.scope || values['certificate-identity'] || values['certificate-oidc-issuer']) throw new HostError('USAGE', 'trust refresh-root takes only --from, or --mirror and --tuf-root');
      if (values.from !== undefined && (values.mirror !== undefined || values['tuf-root'] !== undefined)) throw new HostError('USAGE', 'trust refresh-root --from reads a file: it takes no --mirror or --tuf-root');
      let rootJson: unknown;
      if (values.from !== undefined) {
        const text = (await readUserFile(io, values.from, 'trusted root')).toString('utf8');
        try {
          rootJson = JSON.parse(text) as unknown;
        } catch {
          throw new HostError('TRUSTED_ROOT_INVALID', `trusted root ${values.from.slice(0, 200)} is not valid JSON`);
        }
      } else {
        rootJson = await fetchTrustedRootViaTuf({
          cacheDir: join(home.dir, 'tuf-cache'),
          ...(values.mirror ? { mirrorURL: values.mirror } : {}),
          ...(values['tuf-root'] ? { tufRootPath: resolve(io.cwd, values['tuf-root']) } : {}),
        });
      }
      const written = await writeHomeTrustedRoot(home.dir, rootJson);
      if (json) writeJson(io, { ok: true, file: written.file, source: values.from !== undefined ? 'file' : 'tuf', ...written.summary });
      else io.stdout.write(`wrote ${written.file} (${describeRoot(written.summary)}) from ${values.from !== undefined ? values.from : 'TUF'}; install and serve now use it\n`);
      return 0;
    }
    const policy = await loadTrustPolicy(home.trustFile);

    switch (sub) {
      case 'add-key': {
        if (args.length !== 1 || !values.name) throw new HostError('USAGE', 'trust add-key needs a public key file and --name');
        if (values['certificate-identity'] || values['certificate-oidc-issuer']) throw new HostError('USAGE', 'add-key takes no certificate flags');
        const key = parsePublicKeyPem((await readUserFile(io, args[0] as string, 'public key')).toString('utf8'));
        const publisher = parsePublisher({ name: checkName(values.name), kind: 'key', publicKeyPem: publicKeyPem(key), keyId: keyIdOf(key), ...withScope });
        checkNotTrusted(policy, publisher);
        await saveTrustPolicy(home.trustFile, addPublisher(policy, publisher));
        if (json) writeJson(io, { ok: true, added: publisher });
        else io.stdout.write(`trusted ${describePublisher(publisher)}\n`);
        return 0;
      }
      case 'add-identity': {
        const identity = values['certificate-identity'];
        const issuer = values['certificate-oidc-issuer'];
        if (args.length !== 0 || !identity || !issuer) throw new HostError('USAGE', 'trust add-identity needs --certificate-identity and --certificate-oidc-issuer');
        const publisher = parsePublisher({ name: checkName(values.name ?? identity), kind: 'identity', identity, issuer, ...withScope });
        checkNotTrusted(policy, publisher);
        await saveTrustPolicy(home.trustFile, addPublisher(policy, publisher));
        if (json) writeJson(io, { ok: true, added: publisher });
        else io.stdout.write(`trusted ${describePublisher(publisher)}\n`);
        return 0;
      }
      case 'add-provenance': {
        if (args.length !== 0 || !values.repo) throw new HostError('USAGE', 'trust add-provenance needs --repo HOST/OWNER/REPO');
        if (values['certificate-identity'] || values['certificate-oidc-issuer']) throw new HostError('USAGE', 'add-provenance takes --issuer, not the certificate flags');
        const raw = {
          kind: 'provenance',
          repository: values.repo,
          ...(values.workflow !== undefined ? { workflow: values.workflow } : {}),
          ...(values.ref !== undefined ? { ref: values.ref } : {}),
          issuer: values.issuer ?? GITHUB_ACTIONS_ISSUER,
          ...withScope,
        };
        // Parsed once without a name to normalise the repository the default name is made of.
        let publisher: Publisher;
        try {
          const parsed = parsePublisher({ ...raw, name: values.name ?? 'provenance' });
          publisher = values.name ? parsed : { ...parsed, name: parsed.kind === 'provenance' ? parsed.repository : parsed.name };
        } catch (e) {
          // A malformed flag is a usage error, not a damaged trust.json.
          throw isHostError(e) && e.code === 'TRUST_INVALID' ? new HostError('USAGE', e.message.replace(/^publisher [^:]*: /u, '')) : e;
        }
        checkName(publisher.name);
        checkNotTrusted(policy, publisher);
        await saveTrustPolicy(home.trustFile, addPublisher(policy, publisher));
        if (json) writeJson(io, { ok: true, added: publisher });
        else io.stdout.write(`trusted ${describePublisher(publisher)}\n`);
        return 0;
      }
      case 'list': {
        if (args.length !== 0) throw new HostError('USAGE', 'trust list takes no argument');
        if (json) writeJson(io, { ok: true, file: home.trustFile, publishers: policy.publishers });
        else if (policy.publishers.length === 0) io.stdout.write('no trusted publishers\n');
        else io.stdout.write(`${policy.publishers.map(describePublisher).join('\n')}\n`);
        return 0;
      }
      case 'remove': {
        if (args.length !== 1) throw new HostError('USAGE', 'trust remove needs a publisher name');
        await saveTrustPolicy(home.trustFile, removePublisher(policy, args[0] as string));
        if (json) writeJson(io, { ok: true, removed: args[0] });
        else io.stdout.write(`removed ${args[0]}\n`);
        return 0;
      }
      default:
        throw new HostError('USAGE', sub ? `unknown trust command "${sub.slice(0, 40)}"` : 'expected add-key, add-identity, add-provenance, list, remove or refresh-root');
    }
  });
}

