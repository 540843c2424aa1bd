/** `mcp-warden grant NAME SLOT=VALUE...` and `mcp-warden revoke NAME SLOT...`: change an installed package's slot bindings. */
import { HostError } from '../errors.ts';
import { homeLayout, readLock, resolveHomeDir } from '../home/home.ts';
import type { Home, LockEntry } from '../home/home.ts';
import { parseSlotBindings } from '../install/grant.ts';
import { writeLockAtomic } from '../home/lock-write.ts';
import { withHomeMutex } from '../home/mutex.ts';
import { cleanOrphans } from '../home/recovery.ts';
import { installedManifest, rebind, unbind } from '../install/regrant.ts';
import type { PackageManifest } from '../manifest.ts';
import { parseFlags, runCommand, writeJson } from './cli-support.ts';
import type { CommandIO } from './io.ts';

export const GRANT_USAGE = `Usage: mcp-warden grant NAME SLOT=VALUE... [--home DIR] [--json]

Binds slots of an installed package: a file slot to a directory (with the access its manifest declares),
a host slot to one network rule. Replaces an earlier binding of the same slot. A running serve reloads.

Options:
  --home DIR   home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --json       machine-readable output
  --help       show this help
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
    const { values, positionals } = parseFlags(argv, OPTIONS);
    const [name, ...rest] = positionals;
    if (name === undefined || rest.length === 0) throw new HostError('USAGE', kind === 'grant' ? 'expected NAME SLOT=VALUE...' : 'expected NAME SLOT...');
    const home = homeLayout(resolveHomeDir(values.home, io.env, io.cwd));
    const entry =
      kind === 'grant'
        ? await updateEntry(home, name, (e, pm) => rebind(e, pm, parseSlotBindings(rest), io.cwd, home))
        : await updateEntry(home, name, (e, pm) => unbind(e, pm, rest));
    if (json) writeJson(io, { ok: true, name, grant: entry.grant });
    else io.stdout.write(`${name}@${entry.version}\n  network: ${entry.grant.net.join(', ') || '(none)'}\n  files:   ${entry.grant.fs.join(', ') || '(none)'}\n`);
    return 0;
  });
}

export function run(argv: string[], io: CommandIO): Promise<number> {
  return runGrantLike('grant', argv, io);
}

/** The revoke command (its own table entry in commands/index.ts). */
export const revoke = { run: (argv: string[], io: CommandIO): Promise<number> => runGrantLike('revoke', argv, io) };
