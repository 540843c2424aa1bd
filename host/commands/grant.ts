/** `mcp-warden grant NAME SLOT=VALUE...` and `mcp-warden revoke NAME SLOT...`: change an installed package's slot bindings. */
import { HostError } from '../errors.ts';
import { homeLayout, readLock, resolveHomeDir } from '../home/home.ts';
import type { Home, LockEntry } from '../home/home.ts';
import { parseSlotBindings } from '../install/grant.ts';
import { writeLockAtomic } from '../home/lock-write.ts';
import { withHomeMutex } from '../home/mutex.ts';
import { cleanOrphans } from '../home/recovery.ts';
import { installedManifest, rebind, unbind } from '../install/regrant.ts';
import { effectiveLimits } from '../manifest.ts';
import type { PackageManifest } from '../manifest.ts';
import { parseLimitFlags } from '../serve/user-settings.ts';
import { applyConsent, parseAskedArg } from '../serve/consent/answers.ts';
import type { ConsentAnswer } from '../serve/consent/answers.ts';
import { parseFlags, runCommand, writeJson } from './cli-support.ts';
import type { CommandIO } from './io.ts';
import { assertAllowed } from '../policy/enforce.ts';
import { extraPolicyFiles, loadOrgPolicy } from '../policy/load.ts';
import { NO_POLICY } from '../policy/parse.ts';

export const GRANT_USAGE = `Usage: mcp-warden grant NAME [SLOT=VALUE...] [--allow|--deny|--forget KIND:RULE...] [--fresh | --no-fresh] [--limit KEY=N...] [--policy FILE]... [--home DIR] [--json]

Binds slots of an installed package: a file slot to a directory (with the access its manifest declares),
a host slot to one network rule. Replaces an earlier binding of the same slot. A running serve reloads.
Answers a capability the package asks at first use (docs/consent.md) as a client would: KIND:RULE is
net:RULE or fs:read:/PATH / fs:write:/PATH, exactly as the package's asked rule (see "mcp-warden list").

Options:
  --allow KIND:RULE   grant an asked capability for good ("always")
  --deny KIND:RULE    refuse it for good ("never"): calls that need it fail with CONSENT_REFUSED
  --forget KIND:RULE  drop an earlier answer: it is asked again at its next use
  --fresh        run every call of the package in a fresh context (no state survives between calls)
  --no-fresh     undo --fresh (the manifest's choice applies again)
  --limit KEY=N  lower one of the package's limits, e.g. cpuMs=500 or memoryMb=32 (repeatable);
                 never above what its manifest sets or the host maximums
  --policy FILE  also apply this organisation policy (repeatable; as $MCP_WARDEN_POLICY); a binding or an
                 answer beyond any policy's ceilings is refused (docs/policy.md)
  --home DIR     home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --json         machine-readable output
  --help         show this help
`;

export const REVOKE_USAGE = `Usage: mcp-warden revoke NAME SLOT... [--home DIR] [--json]

Unbinds slots of an installed package: the directory or host they granted is no longer reachable.
A running serve reloads.

Options:
  --home DIR   home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --json       machine-readable output
  --help       show this help
`;

const OPTIONS = { home: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } } as const;
const GRANT_OPTIONS = {
  ...OPTIONS,
  fresh: { type: 'boolean' },
  'no-fresh': { type: 'boolean' },
  limit: { type: 'string', multiple: true },
  allow: { type: 'string', multiple: true },
  deny: { type: 'string', multiple: true },
  forget: { type: 'string', multiple: true },
  policy: { type: 'string', multiple: true },
} as const;

/** Applies --allow / --deny / --forget (host/serve/consent/answers.ts): only rules the entry asks for. */
function withAnswers(name: string, entry: LockEntry, answers: readonly { answer: ConsentAnswer; arg: string }[]): LockEntry {
  let next = entry;
  for (const { answer, arg } of answers) next = applyConsent(name, next, parseAskedArg(arg), answer);
  return next;
}

/** Applies --fresh / --no-fresh / --limit to an entry's user settings (host/serve/user-settings.ts). */
function withSettings(entry: LockEntry, pm: PackageManifest, fresh: boolean | undefined, limits: readonly string[]): LockEntry {
  if (fresh === undefined && limits.length === 0) return entry;
  const lowered = parseLimitFlags(limits, effectiveLimits(pm.manifest.limits));
  const before = entry.settings ?? {};
  const mergedLimits = { ...before.limits, ...lowered };
  const nextFresh = fresh ?? before.fresh;
  const settings = { ...(nextFresh ? { fresh: true } : {}), ...(Object.keys(mergedLimits).length > 0 ? { limits: mergedLimits } : {}) };
  const { settings: _old, ...rest } = entry;
  return Object.keys(settings).length > 0 ? { ...rest, settings } : rest;
}

/** Reads, changes and commits one package's lock entry under the home's writer lock. */
async function updateEntry(home: Home, name: string, change: (entry: LockEntry, pm: PackageManifest) => Promise<LockEntry> | LockEntry): Promise<LockEntry> {
  return withHomeMutex(home, async () => {
    const lock = await readLock(home);
    const entry = Object.hasOwn(lock.packages, name) ? lock.packages[name] : undefined;
    if (!entry) throw new HostError('NOT_INSTALLED', `${name.slice(0, 214)} is not installed`);
    await cleanOrphans(home, lock);
    const pm = await installedManifest(home, { name, ...entry });
    const next = await change(entry, pm);
    await writeLockAtomic(home, { version: 1, packages: { ...lock.packages, [name]: next } }, { seal: [name] });
    return next;
  });
}

function runGrantLike(kind: 'grant' | 'revoke', argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, kind, kind === 'grant' ? GRANT_USAGE : REVOKE_USAGE, argv, async (json) => {
    const { values, positionals } = parseFlags(argv, kind === 'grant' ? GRANT_OPTIONS : OPTIONS);
    const [name, ...rest] = positionals;
    const v = values as { home?: string; fresh?: boolean; 'no-fresh'?: boolean; limit?: string[]; allow?: string[]; deny?: string[]; forget?: string[]; policy?: string[] };
    if (v.fresh && v['no-fresh']) throw new HostError('USAGE', '--fresh and --no-fresh contradict each other');
    const fresh = v.fresh ? true : v['no-fresh'] ? false : undefined;
    const limits = v.limit ?? [];
    const answers = [...(v.allow ?? []).map((arg) => ({ answer: 'always' as const, arg })), ...(v.deny ?? []).map((arg) => ({ answer: 'never' as const, arg })), ...(v.forget ?? []).map((arg) => ({ answer: 'forget' as const, arg }))];
    const settingsOnly = kind === 'grant' && (fresh !== undefined || limits.length > 0 || answers.length > 0);
    if (name === undefined || (rest.length === 0 && !settingsOnly)) throw new HostError('USAGE', kind === 'grant' ? 'expected NAME SLOT=VALUE... (or --allow/--deny/--forget KIND:RULE, --fresh, --limit KEY=N)' : 'expected NAME SLOT...');
    // Checked before the home is touched: a malformed KIND:RULE is a usage error.
    for (const a of answers) parseAskedArg(a.arg);
    const home = homeLayout(resolveHomeDir(v.home, io.env, io.cwd));
    // What the user grants here stays under the organisation policy's ceilings (docs/policy.md), as at install.
    const policy = kind === 'grant' ? await loadOrgPolicy({ extraFiles: extraPolicyFiles(v.policy, io.env, io.cwd) }) : NO_POLICY;
    const entry =
      kind === 'grant'
        ? await updateEntry(home, name, async (e, pm) => {
            const next = withAnswers(name, withSettings(rest.length > 0 ? await rebind(e, pm, parseSlotBindings(rest), io.cwd, home) : e, pm, fresh, limits), answers);
            assertAllowed(policy, { name, grant: next.grant }, `${name}@${next.version}`);
            return next;
          })
        : await updateEntry(home, name, (e, pm) => unbind(e, pm, rest));
    if (json) writeJson(io, { ok: true, name, grant: entry.grant, ...(entry.settings ? { settings: entry.settings } : {}), ...(entry.asks ? { asks: entry.asks } : {}), ...(entry.refusals ? { refusals: entry.refusals } : {}) });
    else {
      const s = entry.settings;
      const extra = s ? `  fresh context per call: ${s.fresh ? 'yes' : 'as the manifest says'}\n  lowered limits: ${Object.entries(s.limits ?? {}).map(([k, n]) => `${k}=${n}`).join(', ') || '(none)'}\n` : '';
      const refused = [...(entry.refusals?.net ?? []).map((r) => `net:${r}`), ...(entry.refusals?.fs ?? []).map((r) => `fs:${r}`)];
      const asked = entry.asks ? `  asked at first use: ${[...entry.asks.net.map((r) => `net:${r}`), ...entry.asks.fs.map((r) => `fs:${r}`)].join(', ')}\n  refused: ${refused.join(', ') || '(none)'}\n` : '';
      io.stdout.write(`${name}@${entry.version}\n  network: ${entry.grant.net.join(', ') || '(none)'}\n  files:   ${entry.grant.fs.join(', ') || '(none)'}\n${asked}${extra}`);
    }
    return 0;
  });
}

export function run(argv: string[], io: CommandIO): Promise<number> {
  return runGrantLike('grant', argv, io);
}

/** The revoke command (its own table entry in commands/index.ts). */
export const revoke = { run: (argv: string[], io: CommandIO): Promise<number> => runGrantLike('revoke', argv, io) };
