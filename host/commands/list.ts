/** `mcp-warden list`: the installed packages of the home, with their signer and grant. */
import { HostError } from '../errors.ts';
import { homeLayout, installedPackages, readLock, resolveHomeDir } from '../home/home.ts';
import { describeSignerId } from '../install/signer.ts';
import { HOME_OPTION, defineCommand, writeJson } from './cli-support.ts';

export const USAGE = `Usage: mcp-warden list [--home DIR] [--json]

Lists the installed packages: version, signer, grant and install time (from <home>/lock.json).

Options:
  --home DIR   home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --json       machine-readable output
  --help       show this help
`;

const OPTIONS = { ...HOME_OPTION } as const;

export const run = defineCommand('list', USAGE, OPTIONS, async ({ values, positionals }, io, json) => {
  if (positionals.length !== 0) throw new HostError('USAGE', 'list takes no argument');
  const home = homeLayout(resolveHomeDir(values.home, io.env, io.cwd));
  const packages = installedPackages(await readLock(home));
  if (json) {
    writeJson(io, { ok: true, packages: packages.map(({ files: _files, ...p }) => p) });
    return 0;
  }
  if (packages.length === 0) io.stdout.write('no packages installed\n');
  for (const p of packages) {
    const slots = Object.entries(p.grant.slots).map(([k, v]) => `${k}=${v}`);
    io.stdout.write(
      `${p.name}@${p.version}\n  signer:    ${describeSignerId(p.signer)}\n  network:   ${p.grant.net.join(', ') || '(none)'}\n  files:     ${p.grant.fs.join(', ') || '(none)'}\n` +
        `  slots:     ${slots.join(', ') || '(none)'}\n  installed: ${p.installedAt}\n`,
    );
  }
  return 0;
});
