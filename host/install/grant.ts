/**
 * What an installed package may use: the grant recorded in lock.json, built from the manifest's requests
 * and the user's slot bindings, and the difference an update makes.
 *
 * Threat: the manifest says what a package asks for; only the user's consent turns that into a grant.
 * A grant is never wider than the request (the loader intersects again at serve), a slot is bound only
 * to what the user named (a real directory, or one network rule), and an update that asks for anything
 * the installed version was not granted is shown as a diff and needs fresh consent: a trusted publisher
 * must not be able to widen its reach silently in a new version.
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { fsGrantToStrings, netGrantToStrings, parseFsGrant, parseNetGrant } from '../../runtime/index.ts';
import { HostError } from '../errors.ts';
import type { Home, LockGrant, LockRules } from '../home/home.ts';
import { assertOutsideProtected, protectedPaths } from '../home/protected.ts';
import type { PackageManifest } from '../manifest.ts';

/** SLOT=VALUE pairs from --grant. @throws HostError USAGE */
export function parseSlotBindings(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const m = /^([a-z][a-zA-Z0-9_-]{0,31})=(.+)$/.exec(v);
    if (!m) throw new HostError('USAGE', `--grant expects SLOT=VALUE, got ${JSON.stringify(v.slice(0, 100))}`);
    out[m[1] as string] = m[2] as string;
  }
  return out;
}

/**
 * The canonical text of one rule, as runtime's parser reads it ("https://API.example.com:443" →
 * "api.example.com"): lock.json stores only canonical rules, so grants compare and diff as data.
 * @throws Error when the rule does not parse
 */
export function canonicalRule(kind: 'net' | 'fs', rule: string): string {
  const out = kind === 'net' ? netGrantToStrings(parseNetGrant([rule])) : fsGrantToStrings(parseFsGrant([rule]));
  if (out.length !== 1) throw new Error(`not one ${kind} rule`);
  return out[0] as string;
}

function canonicalManifestRules(kind: 'net' | 'fs', rules: readonly string[], what: string): string[] {
  return rules.map((r) => {
    try {
      return canonicalRule(kind, r);
    } catch (e) {
      throw new HostError('MANIFEST_INVALID', `${what}: capabilities.${kind} rule ${JSON.stringify(r.slice(0, 200))}: ${e instanceof Error ? e.message.slice(0, 200) : 'invalid'}`);
    }
  });
}

export interface SlotInfo {
  readonly slot: string;
  readonly kind: 'path' | 'host';
  readonly access?: 'read' | 'write';
  readonly description?: string;
  /** Bound at install, but asked at first use instead of granted (docs/consent.md). */
  readonly ask?: true;
}

/** The slots a manifest declares. */
export function manifestSlots(pm: PackageManifest): SlotInfo[] {
  const caps = pm.manifest.capabilities;
  return [
    ...caps.fs.flatMap((r) => (typeof r === 'string' ? [] : [{ slot: r.slot, kind: 'path' as const, access: r.access, ...(r.description ? { description: r.description } : {}), ...(r.consent === 'ask' ? { ask: true as const } : {}) }])),
    ...caps.net.flatMap((r) => (typeof r === 'string' ? [] : [{ slot: r.slot, kind: 'host' as const, ...(r.description ? { description: r.description } : {}), ...(r.consent === 'ask' ? { ask: true as const } : {}) }])),
  ];
}

/**
 * Binds one slot to a value: a path slot to a real directory, a host slot to one network rule. A
 * directory that overlaps the home or the trust root (`protect`, real paths) is refused.
 * @throws HostError GRANT_INVALID, GRANT_COVERS_HOME
 */
export async function bindSlot(slot: SlotInfo, value: string, cwd: string, protect: readonly string[]): Promise<{ slot: string; net?: string; fs?: string }> {
  if (slot.kind === 'host') {
    let rule: string;
    try {
      rule = canonicalRule('net', value);
    } catch (e) {
      throw new HostError('GRANT_INVALID', `slot "${slot.slot}": ${e instanceof Error ? e.message : 'not a network rule'}`);
    }
    return { slot: rule, net: rule };
  }
  let real: string;
  try {
    real = await realpath(resolve(cwd, value));
    if (!(await stat(real)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new HostError('GRANT_INVALID', `slot "${slot.slot}": ${JSON.stringify(value.slice(0, 200))} is not an existing directory`);
  }
  assertOutsideProtected(real, protect, `slot "${slot.slot}"`);
  return { slot: real, fs: `${slot.access ?? 'read'}:${real}` };
}

export interface PlannedGrant {
  readonly grant: LockGrant;
  /** Declared slots left unbound: they grant nothing until `mcp-warden grant`. */
  readonly unbound: readonly SlotInfo[];
  /**
   * The capabilities asked at first use (fixed ask rules and bound ask slots, canonical): not in `grant`,
   * except those the user already answered "always" for in the consented version.
   */
  readonly asks: LockRules;
  /** The consented version's refusals ("never") of rules still asked. */
  readonly refusals: LockRules;
}

/** Refuses fixed file rules (a manifest's) whose real path overlaps the home or the trust root. @throws HostError GRANT_COVERS_HOME */
export async function checkFixedRules(rules: readonly string[], protect: readonly string[], what: string): Promise<void> {
  for (const rule of rules) {
    const path = rule.slice(rule.indexOf(':') + 1);
    if (!isAbsolute(path)) continue;
    assertOutsideProtected(await realpath(path).catch(() => resolve(path)), protect, `${what}: rule "${rule.slice(0, 200)}"`);
  }
}

/**
 * The grant to record: the manifest's fixed rules, plus each slot bound by `bindings`, else by the
 * previous version's grant (an update keeps what the user already chose). Nothing in it may reach the
 * home (host/home/protected.ts).
 * @throws HostError USAGE (a binding for an undeclared slot), GRANT_INVALID, GRANT_COVERS_HOME
 */
export async function planGrant(
  pm: PackageManifest,
  bindings: Readonly<Record<string, string>>,
  previous: LockGrant | undefined,
  cwd: string,
  home: Home,
  previousRefusals?: LockRules,
): Promise<PlannedGrant> {
  const protect = await protectedPaths(home);
  const slots = manifestSlots(pm);
  for (const name of Object.keys(bindings)) {
    if (!slots.some((s) => s.slot === name)) throw new HostError('USAGE', `${pm.name} declares no slot "${name}" (it declares: ${slots.map((s) => s.slot).join(', ') || 'none'})`);
  }
  const net = canonicalManifestRules('net', pm.manifest.capabilities.net.filter((r): r is string => typeof r === 'string'), pm.name);
  const fs = canonicalManifestRules('fs', pm.manifest.capabilities.fs.filter((r): r is string => typeof r === 'string'), pm.name);
  await checkFixedRules(fs, protect, pm.name);
  // Ask rules pass the same checks as granted ones: a rule that could never be granted is never asked.
  const askNet = canonicalManifestRules('net', (pm.manifest.capabilities.ask?.net ?? []).map((r) => r.rule), pm.name);
  const askFs = canonicalManifestRules('fs', (pm.manifest.capabilities.ask?.fs ?? []).map((r) => r.rule), pm.name);
  await checkFixedRules(askFs, protect, pm.name);
  const bound: Record<string, string> = {};
  const unbound: SlotInfo[] = [];
  for (const s of slots) {
    const given = bindings[s.slot];
    let value = given;
    if (value === undefined && previous?.slots[s.slot] !== undefined) {
      const old = previous.slots[s.slot] as string;
      // Carried over only while it still means the same kind of thing (a directory, or a net rule).
      const wasPath = previous.fs.some((r) => r.endsWith(`:${old}`));
      if (wasPath === (s.kind === 'path')) value = old;
    }
    if (value === undefined) {
      unbound.push(s);
      continue;
    }
    let b: { slot: string; net?: string; fs?: string };
    try {
      b = await bindSlot(s, value, cwd, protect);
    } catch (e) {
      // A carried-over binding that no longer resolves is dropped; one the user just typed is an error,
      // and so is one that now reaches the home.
      if (given !== undefined || (e as { code?: string }).code === 'GRANT_COVERS_HOME') throw e;
      unbound.push(s);
      continue;
    }
    bound[s.slot] = b.slot;
    // An ask slot is bound (the tool sees its path) but its rule waits for the user's answer.
    if (b.net !== undefined) (s.ask ? askNet : net).push(b.net);
    if (b.fs !== undefined) (s.ask ? askFs : fs).push(b.fs);
  }
  const asks: LockRules = { net: [...new Set(askNet)].filter((r) => !net.includes(r)), fs: [...new Set(askFs)].filter((r) => !fs.includes(r)) };
  // Earlier answers to rules still asked carry over an update: "always" stays granted, "never" refused.
  for (const kind of ['net', 'fs'] as const) {
    const target = kind === 'net' ? net : fs;
    for (const r of asks[kind]) if (previous?.[kind].includes(r) === true) target.push(r);
  }
  const refusals: LockRules = { net: (previousRefusals?.net ?? []).filter((r) => asks.net.includes(r)), fs: (previousRefusals?.fs ?? []).filter((r) => asks.fs.includes(r)) };
  return { grant: { net: [...new Set(net)], fs: [...new Set(fs)], slots: bound }, unbound, asks, refusals };
}

export interface GrantDiff {
  readonly added: { readonly net: readonly string[]; readonly fs: readonly string[] };
  readonly removed: { readonly net: readonly string[]; readonly fs: readonly string[] };
}

/** What `next` grants that `previous` did not, and the reverse (rules compared as written). */
export function diffGrants(previous: LockGrant | undefined, next: LockGrant): GrantDiff {
  const p = previous ?? { net: [], fs: [], slots: {} };
  return {
    added: { net: next.net.filter((r) => !p.net.includes(r)), fs: next.fs.filter((r) => !p.fs.includes(r)) },
    removed: { net: p.net.filter((r) => !next.net.includes(r)), fs: p.fs.filter((r) => !next.fs.includes(r)) },
  };
}

export function isEscalation(diff: GrantDiff): boolean {
  return diff.added.net.length > 0 || diff.added.fs.length > 0;
}
