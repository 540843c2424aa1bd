/**
 * A package's effective grant at load: the manifest's requests (its host and directory slots bound by the
 * user, its fixed rules, its asked rules) intersected with what the user allowed, never wider than either
 * (Deno's escalation rule). Slots are bound to real directories; a rule that does not parse is the
 * manifest's fault (MANIFEST_INVALID) or the user's (GRANT_INVALID).
 */
import { realpath, stat } from 'node:fs/promises';
import { fsGrantToStrings, intersectFsGrants, intersectNetGrants, parseFsGrant, parseNetGrant, resolveFsGrant } from '../../runtime/index.ts';
import type { FsGrant, Grant } from '../../runtime/index.ts';
import { HostError } from '../errors.ts';
import type { PackageManifest } from '../manifest.ts';

async function realSlotPaths(slots: Readonly<Record<string, string>>, what: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [slot, path] of Object.entries(slots).sort(([a], [b]) => a.localeCompare(b))) {
    try {
      const real = await realpath(path);
      if (!(await stat(real)).isDirectory()) throw new Error('not a directory');
      out[slot] = real;
    } catch {
      throw new HostError('GRANT_INVALID', `${what}: the directory bound to slot "${slot}" does not exist`);
    }
  }
  return out;
}

export function parseRules<T>(parse: (rules: string[]) => T, rules: readonly string[], code: 'MANIFEST_INVALID' | 'GRANT_INVALID', what: string): T {
  try {
    return parse([...rules]);
  } catch (e) {
    const msg = e instanceof Error ? e.message : 'invalid rule';
    throw new HostError(code, `${what}: ${msg}`);
  }
}

export async function resolveRules(grant: FsGrant, code: 'GRANT_INVALID', what: string): Promise<FsGrant> {
  try {
    return await resolveFsGrant(grant);
  } catch (e) {
    throw new HostError(code, `${what}: ${e instanceof Error ? e.message : 'invalid path'}`);
  }
}

/** Fixed-path rules the manifest asks for; one whose path does not exist is dropped (it grants nothing). */
async function resolveRequestedFixed(rules: readonly string[], what: string): Promise<FsGrant> {
  const out: string[] = [];
  for (const rule of rules) {
    const parsed = parseRules(parseFsGrant, [rule], 'MANIFEST_INVALID', what);
    try {
      out.push(...fsGrantToStrings(await resolveFsGrant(parsed)));
    } catch {
      // Not there: nothing to grant.
    }
  }
  return parseFsGrant(out);
}

/** The manifest's network rules, with its host slots replaced by the rules the user bound them to. */
export function requestedNetRules(pm: PackageManifest, slots: Readonly<Record<string, string>>): string[] {
  const fixedAsk = (pm.manifest.capabilities.ask?.net ?? []).map((r) => r.rule);
  return [...pm.manifest.capabilities.net.flatMap((r) => (typeof r === 'string' ? [r] : slots[r.slot] !== undefined ? [slots[r.slot] as string] : [])), ...fixedAsk];
}

/** Binds the slots the manifest declares from the user's bindings: fs slots to real directories, host slots to rules. */
export async function bindSlots(pm: PackageManifest, bindings: Readonly<Record<string, string>>, what: string): Promise<Record<string, string>> {
  const fsWanted: Record<string, string> = {};
  const out: Record<string, string> = {};
  for (const r of pm.manifest.capabilities.fs) if (typeof r !== 'string' && bindings[r.slot] !== undefined) fsWanted[r.slot] = bindings[r.slot] as string;
  for (const r of pm.manifest.capabilities.net) {
    const rule = typeof r !== 'string' ? bindings[r.slot] : undefined;
    if (typeof r === 'string' || rule === undefined) continue;
    // A host slot binds exactly one rule (the "one granted host" of an API client).
    parseRules(parseNetGrant, [rule], 'GRANT_INVALID', `${what}: slot "${r.slot}"`);
    out[r.slot] = rule;
  }
  return { ...out, ...(await realSlotPaths(fsWanted, what)) };
}

/**
 * The effective grant: manifest ∩ allowance. `slots` are real directory paths; the manifest's slot
 * requests become rules on them, its fixed paths rules as written.
 */
export async function effectiveGrant(
  pm: PackageManifest,
  slots: Readonly<Record<string, string>>,
  allowedNet: readonly string[],
  allowedFs: FsGrant,
  what: string,
): Promise<{ grant: Grant; paths: Record<string, string> }> {
  const requestedNet = parseRules(parseNetGrant, requestedNetRules(pm, slots), 'MANIFEST_INVALID', what);
  const net = intersectNetGrants(requestedNet, parseRules(parseNetGrant, allowedNet, 'GRANT_INVALID', what));

  const slotRules: string[] = [];
  const fixed: string[] = [];
  const paths: Record<string, string> = {};
  const askSlots = new Set<string>();
  for (const r of pm.manifest.capabilities.fs) {
    if (typeof r === 'string') fixed.push(r);
    else if (slots[r.slot] !== undefined) {
      slotRules.push(`${r.access}:${slots[r.slot]}`);
      paths[r.slot] = slots[r.slot] as string;
      if (r.consent === 'ask') askSlots.add(r.slot);
    }
  }
  // Asked rules are requested too: granted once the user answers "always" (docs/consent.md).
  fixed.push(...(pm.manifest.capabilities.ask?.fs ?? []).map((r) => r.rule));
  const requested = parseFsGrant([...fsGrantToStrings(parseFsGrant(slotRules)), ...fsGrantToStrings(await resolveRequestedFixed(fixed, what))]);
  const fs = intersectFsGrants(requested, allowedFs);
  // A slot is only passed to the tool if the effective grant still covers it.
  const covered = new Set(fs.rules.map((r) => r.path));
  // An asked slot's path is passed before it is granted: the tool must name it to be asked about it.
  for (const slot of Object.keys(paths)) if (!covered.has(paths[slot] as string) && !askSlots.has(slot)) delete paths[slot];
  return { grant: { net, fs }, paths };
}
