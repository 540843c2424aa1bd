/** `mcp-warden enable NAME`: lifts a package's quarantine (host/serve/quarantine.ts, quarantine.json). */
import { HostError } from '../errors.ts';
import { homeLayout, resolveHomeDir } from '../home/home.ts';
import { removeQuarantine } from '../home/quarantine-file.ts';
import { HOME_OPTION, defineCommand, writeJson } from './cli-support.ts';

export const USAGE = `Usage: mcp-warden enable NAME [--home DIR] [--json]

Re-enables a quarantined package: serve took it out of service after repeated refused capability
requests, limit kills or DLP blocks (config.json, section quarantine). It is dropped from
<home>/quarantine.json; a running serve serves it again and tells its client (tools/list_changed).
See why it was quarantined with "mcp-warden list" first.

Options:
  --home DIR   home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --json       machine-readable output
  --help       show this help
`;

const OPTIONS = { ...HOME_OPTION } as const;

export const run = defineCommand('enable', USAGE, OPTIONS, async ({ values, positionals }, io, json) => {
  if (positionals.length !== 1) throw new HostError('USAGE', 'expected exactly one package name');
  const name = positionals[0] as string;
  const home = homeLayout(resolveHomeDir(values.home, io.env, io.cwd));
  const lifted = await removeQuarantine(home, name);
  if (json) writeJson(io, { ok: true, package: name, enabled: lifted });
  else io.stdout.write(lifted ? `enabled ${name}\n` : `${name.slice(0, 214)} is not quarantined\n`);
  return 0;
});
