/** `mcp-warden list`: the installed packages of the home, with their signer, grant and what they serve. */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from '../errors.ts';
import { sriSha512 } from '../home/file-digests.ts';
import { homeLayout, installedPackages, readLock, resolveHomeDir } from '../home/home.ts';
import { readQuarantine } from '../home/quarantine-file.ts';
import type { Home, InstalledPackage } from '../home/home.ts';
import { printable, servedSummary } from '../install/consent.ts';
import type { ServedSummary } from '../install/consent.ts';
import { describeSignerId } from '../install/signer.ts';
import { describeAsks, describeProvenance } from '../install/consent.ts';
import { parsePackageManifest } from '../manifest.ts';
import type { PackageManifest } from '../manifest.ts';
import { PACKAGE_LIMITS } from '../pack/limits.ts';
import { HOME_OPTION, defineCommand, writeJson } from './cli-support.ts';

export const USAGE = `Usage: mcp-warden list [--home DIR] [--json]

Lists the installed packages: version, signer, grant, install time (from <home>/lock.json) and what
each serves (tools, resources, prompts; from its package.json, if it still matches its install digest).
A quarantined package (<home>/quarantine.json) is marked QUARANTINED with the reason; "mcp-warden enable
NAME" lifts it.

Options:
  --home DIR   home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --json       machine-readable output
  --help       show this help
`;

const OPTIONS = { ...HOME_OPTION } as const;

/**
 * The manifest of an installed package, read back only if its package.json still has the digest
 * recorded at install (list shows what was consented to, not what someone wrote there since).
 */
async function installedManifest(home: Home, p: InstalledPackage): Promise<PackageManifest | undefined> {
  try {
    const fh = await open(join(home.dir, p.dir, 'package.json'), 'r');
    let data: Buffer;
    try {
      if ((await fh.stat()).size > PACKAGE_LIMITS.maxPackageJsonBytes) return undefined;
      data = await fh.readFile();
    } finally {
      await fh.close();
    }
    if (p.files?.['package.json'] !== sriSha512(data)) return undefined;
    return parsePackageManifest(JSON.parse(data.toString('utf8')));
  } catch {
    return undefined;
  }
}

/** "  tools:     2: a, b" and the like, one line per kind it serves (names are the author's: printable). */
function servesLines(s: ServedSummary): string[] {
  const line = (label: string, items: readonly string[]): string[] =>
    items.length === 0 ? [] : [`  ${label.padEnd(10)} ${items.length}: ${items.slice(0, 8).map((i) => printable(i, 120)).join(', ')}${items.length > 8 ? ', …' : ''}`];
  return [...line('tools:', s.tools), ...line('resources:', s.resources), ...line('templates:', s.resourceTemplates), ...line('prompts:', s.prompts)];
}

export const run = defineCommand('list', USAGE, OPTIONS, async ({ values, positionals }, io, json) => {
  if (positionals.length !== 0) throw new HostError('USAGE', 'list takes no argument');
  const home = homeLayout(resolveHomeDir(values.home, io.env, io.cwd));
  const packages = installedPackages(await readLock(home));
  const manifests = await Promise.all(packages.map((p) => installedManifest(home, p)));
  const quarantine = await readQuarantine(home);
  if (json) {
    writeJson(io, {
      ok: true,
      packages: packages.map(({ files: _files, ...p }, i) => {
        const m = manifests[i];
        const serves: ServedSummary | null = m ? servedSummary(m) : null;
        const q = quarantine[p.name];
        return { ...p, serves, ...(q ? { quarantined: q } : {}) };
      }),
    });
    return 0;
  }
  if (packages.length === 0) io.stdout.write('no packages installed\n');
  packages.forEach((p, i) => {
    const slots = Object.entries(p.grant.slots).map(([k, v]) => `${k}=${v}`);
    const m = manifests[i];
    const serves = m ? servesLines(servedSummary(m)) : ['  serves:    (unknown: its package.json does not match its install digest; reinstall it)'];
    const q = quarantine[p.name];
    const held = q ? `  QUARANTINED since ${q.since}: ${printable(q.reason, 300)}; re-enable with "mcp-warden enable ${p.name}"\n` : '';
    // How it was built (npm provenance) and what it asks at first use, as the consent screen showed them.
    const built = p.provenance ? `${describeProvenance(p.provenance).map((l) => `  ${l}`).join('\n')}\n` : '';
    const asked = p.asks ? describeAsks(p.asks, p.refusals).replace(/^(?=.)/gm, '  ') : '';
    io.stdout.write(
      `${p.name}@${p.version}${q ? ' (QUARANTINED)' : ''}\n${held}  signer:    ${describeSignerId(p.signer)}\n  network:   ${p.grant.net.join(', ') || '(none)'}\n  files:     ${p.grant.fs.join(', ') || '(none)'}\n` +
        `  slots:     ${slots.join(', ') || '(none)'}\n${asked}${built}  installed: ${p.installedAt}\n${serves.join('\n')}\n`,
    );
  });
  return 0;
});
