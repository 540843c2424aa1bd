/**
 * Tool names, prompt names and resource URI spaces are unique across installed packages, scope included:
 * a collision is refused at install.
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
import { uriPrefixOf } from '../serve/load-content.ts';

const MAX_PACKAGE_JSON_BYTES = 1024 * 1024;

/** The client-visible tool names of a package. */
export function toolNamesOf(pm: PackageManifest): string[] {
  return pm.manifest.tools.map((t) => namespacedToolName(pm.name, t.name));
}

/** A name or URI space a package claims among served packages: the keys of host/serve/loader.ts servedClaims (with the prefix). */
interface Claim {
  readonly key: string;
  readonly kind: 'tool' | 'prompt' | 'uri';
  readonly name: string;
}

/**
 * What a package claims when it is served with the prefix (installed packages always are): its tool
 * names, its prompt names, and the whole "mcp-warden://<namespace>/" URI space when it serves any
 * resource or template (two packages folding to one namespace could otherwise answer each other's URIs).
 */
export function claimsOf(pm: PackageManifest): Claim[] {
  const out: Claim[] = toolNamesOf(pm).map((name) => ({ key: `tool:${name}`, kind: 'tool', name }));
  for (const p of pm.manifest.prompts) {
    const name = namespacedToolName(pm.name, p.name);
    out.push({ key: `prompt:${name}`, kind: 'prompt', name });
  }
  if (pm.manifest.resources.length + pm.manifest.resourceTemplates.length > 0) {
    const prefix = uriPrefixOf(pm.name);
    out.push({ key: `uri:${prefix}`, kind: 'uri', name: prefix });
  }
  return out;
}

/** The manifest of an installed package, from its package.json; undefined when it cannot be read (serve refuses it anyway). */
export async function installedManifest(home: Home, dir: string): Promise<PackageManifest | undefined> {
  try {
    const fh = await open(join(home.dir, dir, 'package.json'), 'r');
    try {
      const info = await fh.stat();
      if (!info.isFile() || info.size > MAX_PACKAGE_JSON_BYTES) return undefined;
      return parsePackageManifest(JSON.parse(await fh.readFile('utf8')) as unknown);
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * Refuses `pm` when one of its tool names, prompt names or its resource URI space belongs to another
 * installed package, as serve would refuse both (a tool name first, whatever the package).
 * @throws HostError TOOL_NAME_CONFLICT (a tool name), SERVED_NAME_CONFLICT (a prompt name, the URI space)
 */
export async function assertNoServedNameConflict(home: Home, lock: LockFile, pm: PackageManifest): Promise<void> {
  const mine = new Map(claimsOf(pm).map((c) => [c.key, c]));
  const hits: { claim: Claim; owner: string }[] = [];
  for (const name of Object.keys(lock.packages).sort()) {
    const entry = lock.packages[name];
    if (name === pm.name || entry === undefined) continue;
    const other = await installedManifest(home, entry.dir);
    if (other === undefined) continue;
    for (const c of claimsOf(other)) {
      const claim = mine.get(c.key);
      if (claim) hits.push({ claim, owner: name });
    }
  }
  const hit = hits.find((h) => h.claim.kind === 'tool') ?? hits[0];
  if (hit === undefined) return;
  const { claim, owner } = hit;
  const nothing = `nothing was installed (remove ${owner} first if you want this one instead)`;
  if (claim.kind === 'tool') throw new HostError('TOOL_NAME_CONFLICT', `${pm.name}: its tool name "${claim.name}" is already used by the installed package ${owner}; ${nothing}`);
  const label = claim.kind === 'prompt' ? `its prompt name "${claim.name}" is` : `its resource URIs under "${claim.name}" are`;
  throw new HostError('SERVED_NAME_CONFLICT', `${pm.name}: ${label} already served by the installed package ${owner}; ${nothing}`);
}
