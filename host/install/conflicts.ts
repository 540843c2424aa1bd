/**
 * Tool names are unique across installed packages, scope included: a collision is refused at install.
 *
 * Threat: `@evil/read-tools` installed beside `@good/read-tools` must not take over a name a client
 * already calls (a client picks tools by name). The scheme of host/manifest.ts keeps scopes apart, and
 * since no scheme within MCP's 128-character charset is injective for every npm name, install checks
 * the names themselves and refuses the newcomer; nothing is ever resolved by order.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from '../errors.ts';
import type { Home, LockFile } from '../home/home.ts';
import { namespacedToolName, parsePackageManifest } from '../manifest.ts';
import type { PackageManifest } from '../manifest.ts';

const MAX_PACKAGE_JSON_BYTES = 1024 * 1024;

/** The client-visible tool names of a package. */
export function toolNamesOf(pm: PackageManifest): string[] {
  return pm.manifest.tools.map((t) => namespacedToolName(pm.name, t.name));
}

/** The tool names of an installed package, from its package.json; [] when it cannot be read (serve refuses it anyway). */
async function installedToolNames(home: Home, dir: string): Promise<string[]> {
  try {
    const fh = await open(join(home.dir, dir, 'package.json'), 'r');
    try {
      const info = await fh.stat();
      if (!info.isFile() || info.size > MAX_PACKAGE_JSON_BYTES) return [];
      return toolNamesOf(parsePackageManifest(JSON.parse(await fh.readFile('utf8')) as unknown));
    } finally {
      await fh.close();
    }
  } catch {
    return [];
  }
}

/** Refuses `pm` when one of its tool names belongs to another installed package. @throws HostError TOOL_NAME_CONFLICT */
export async function assertNoToolNameConflict(home: Home, lock: LockFile, pm: PackageManifest): Promise<void> {
  const mine = new Set(toolNamesOf(pm));
  for (const name of Object.keys(lock.packages).sort()) {
    const entry = lock.packages[name];
    if (name === pm.name || entry === undefined) continue;
    const hit = (await installedToolNames(home, entry.dir)).find((n) => mine.has(n));
    if (hit !== undefined) {
      throw new HostError('TOOL_NAME_CONFLICT', `${pm.name}: its tool name "${hit}" is already used by the installed package ${name}; nothing was installed (remove ${name} first if you want this one instead)`);
    }
  }
}
