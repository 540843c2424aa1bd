/** `mcp-warden remove NAME`: uninstalls a package (the lock first, then its files). */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from '../errors.ts';
import { homeLayout, readLock, resolveHomeDir } from '../home/home.ts';
import { writeLockAtomic } from '../home/lock-write.ts';
import { withHomeMutex } from '../home/mutex.ts';
import { cleanOrphans } from '../home/recovery.ts';
import { HOME_OPTION, defineCommand, writeJson } from './cli-support.ts';

export const USAGE = `Usage: mcp-warden remove NAME [--home DIR] [--json]

Uninstalls a package: it is dropped from <home>/lock.json (a running serve stops serving it), then its
files are deleted.

Options:
  --home DIR   home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --json       machine-readable output
  --help       show this help
`;

const OPTIONS = { ...HOME_OPTION } as const;

export const run = defineCommand('remove', USAGE, OPTIONS, async ({ values, positionals }, io, json) => {
  if (positionals.length !== 1) throw new HostError('USAGE', 'expected exactly one package name');
  const name = positionals[0] as string;
  const home = homeLayout(resolveHomeDir(values.home, io.env, io.cwd));
  const removed = await withHomeMutex(home, async () => {
    const lock = await readLock(home);
    const entry = Object.hasOwn(lock.packages, name) ? lock.packages[name] : undefined;
    if (!entry) throw new HostError('NOT_INSTALLED', `${name.slice(0, 214)} is not installed`);
    const packages = { ...lock.packages };
    delete packages[name];
    const next = { version: 1 as const, packages };
    // The lock is the commit point; the directory is an orphan from then on.
    await writeLockAtomic(home, next);
    await rm(join(home.dir, entry.dir), { recursive: true, force: true });
    await cleanOrphans(home, next);
    return entry;
  });
  if (json) writeJson(io, { ok: true, removed: name, version: removed.version });
  else io.stdout.write(`removed ${name}@${removed.version}\n`);
  return 0;
});
