/**
 * `mcp-warden trust add-key|add-identity|list|remove`: the publishers this home trusts
 * (<home>/trust.json), each optionally limited to a scope of package names.
 */
import { HostError } from '../errors.ts';
import { homeLayout, resolveHomeDir } from '../home/home.ts';
import { keyIdOf, parsePublicKeyPem, publicKeyPem } from '../signing/keys.ts';
import { addPublisher, loadTrustPolicy, parsePublisher, parseScope, removePublisher, saveTrustPolicy } from '../trust/policy.ts';
import type { Publisher, TrustPolicy } from '../trust/policy.ts';
import { parseFlags, readUserFile, runCommand, writeJson } from './cli-support.ts';
import type { CommandIO } from './io.ts';

export const USAGE = `Usage: mcp-warden trust add-key PUB --name NAME [--scope SCOPE]... [--home DIR] [--json]
       mcp-warden trust add-identity --certificate-identity ID --certificate-oidc-issuer ISS
                                     [--name NAME] [--scope SCOPE]... [--home DIR] [--json]
       mcp-warden trust list [--home DIR] [--json]
       mcp-warden trust remove NAME [--home DIR] [--json]

Manages the publishers whose signatures "mcp-warden install" accepts (stored in <home>/trust.json).
A key publisher is pinned by its public key; a keyless publisher by its exact certificate identity and
OIDC issuer (for GitHub Actions: the workflow URL, e.g.
https://github.com/OWNER/REPO/.github/workflows/release.yml@refs/heads/main, and the issuer
https://token.actions.githubusercontent.com).

A scope limits the packages a publisher may sign: an exact name ("@acme/echo", "echo") or every
package of one npm scope ("@acme/*"). Without --scope, the publisher may sign any package.

Options:
  --name NAME                      the publisher's name in trust.json (add-identity: default the identity)
  --scope SCOPE                    a package name or "@scope/*" (repeatable)
  --certificate-identity ID        keyless identity, compared exactly
  --certificate-oidc-issuer ISS    its OIDC issuer, compared exactly
  --home DIR                       home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --json                           machine-readable output
  --help                           show this help
`;

const OPTIONS = {
  name: { type: 'string' },
  scope: { type: 'string', multiple: true },
  'certificate-identity': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
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
function checkNotTrusted(policy: TrustPolicy, p: Publisher): void {
  const same = policy.publishers.find((q) => (p.kind === 'key' ? q.kind === 'key' && q.keyId === p.keyId : q.kind === 'identity' && q.identity === p.identity && q.issuer === p.issuer));
  if (same) throw new HostError('TRUST_INVALID', `${p.kind === 'key' ? `key ${p.keyId}` : `identity ${p.identity}`} is already trusted as "${same.name}" (remove it first to change its scope)`);
}

function describePublisher(p: Publisher): string {
  const who = p.kind === 'key' ? `key ${p.keyId}` : `identity ${p.identity} (issuer ${p.issuer})`;
  return `${p.name}: ${who}; scope: ${p.scope ? p.scope.join(', ') : 'any package'}`;
}

export function run(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, 'trust', USAGE, argv, async (json) => {
    const { values, positionals } = parseFlags(argv, OPTIONS);
    const [sub, ...args] = positionals;
    const home = homeLayout(resolveHomeDir(values.home, io.env, io.cwd));
    const scope = values.scope?.map(parseScope);
    const withScope = scope ? { scope } : {};
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
        throw new HostError('USAGE', sub ? `unknown trust command "${sub.slice(0, 40)}"` : 'expected add-key, add-identity, list or remove');
    }
  });
}

