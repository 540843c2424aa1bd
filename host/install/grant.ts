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
import { resolve } from 'node:path';
import { parseNetGrant } from '../../runtime/index.ts';
import { HostError } from '../errors.ts';
import type { LockGrant } from '../home/home.ts';
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

export interface SlotInfo {
  readonly slot: string;
  readonly kind: 'path' | 'host';
  readonly access?: 'read' | 'write';
  readonly description?: string;
}

/** The slots a manifest declares. */
export function manifestSlots(pm: PackageManifest): SlotInfo[] {
  const caps = pm.manifest.capabilities;
  return [
    ...caps.fs.flatMap((r) => (typeof r === 'string' ? [] : [{ slot: r.slot, kind: 'path' as const, access: r.access, ...(r.description ? { description: r.description } : {}) }])),
    ...caps.net.flatMap((r) => (typeof r === 'string' ? [] : [{ slot: r.slot, kind: 'host' as const, ...(r.description ? { description: r.description } : {}) }])),
  ];
}

/** Binds one slot to a value: a path slot to a real directory, a host slot to one network rule. @throws HostError GRANT_INVALID */
export async function bindSlot(slot: SlotInfo, value: string, cwd: string): Promise<{ slot: string; net?: string; fs?: string }> {
  if (slot.kind === 'host') {
    try {
      parseNetGrant([value]);
    } catch (e) {
      throw new HostError('GRANT_INVALID', `slot "${slot.slot}": ${e instanceof Error ? e.message : 'not a network rule'}`);
    }
    return { slot: value, net: value };
  }
  let real: string;
  try {
    real = await realpath(resolve(cwd, value));
    if (!(await stat(real)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new HostError('GRANT_INVALID', `slot "${slot.slot}": ${JSON.stringify(value.slice(0, 200))} is not an existing directory`);
  }
  return { slot: real, fs: `${slot.access ?? 'read'}:${real}` };
}

export interface PlannedGrant {
  readonly grant: LockGrant;
  /** Declared slots left unbound: they grant nothing until `mcp-warden grant`. */
  readonly unbound: readonly SlotInfo[];
}

/**
 * The grant to record: the manifest's fixed rules, plus each slot bound by `bindings`, else by the
 * previous version's grant (an update keeps what the user already chose).
 * @throws HostError USAGE (a binding for an undeclared slot), GRANT_INVALID
 */
export async function planGrant(pm: PackageManifest, bindings: Readonly<Record<string, string>>, previous: LockGrant | undefined, cwd: string): Promise<PlannedGrant> {
  const slots = manifestSlots(pm);
  for (const name of Object.keys(bindings)) {
    if (!slots.some((s) => s.slot === name)) throw new HostError('USAGE', `${pm.name} declares no slot "${name}" (it declares: ${slots.map((s) => s.slot).join(', ') || 'none'})`);
  }
  const net = pm.manifest.capabilities.net.filter((r): r is string => typeof r === 'string');
  const fs = pm.manifest.capabilities.fs.filter((r): r is string => typeof r === 'string');
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
      b = await bindSlot(s, value, cwd);
    } catch (e) {
      // A carried-over binding that no longer resolves is dropped; one the user just typed is an error.
      if (given !== undefined) throw e;
      unbound.push(s);
      continue;
    }
    bound[s.slot] = b.slot;
    if (b.net !== undefined) net.push(b.net);
    if (b.fs !== undefined) fs.push(b.fs);
  }
  return { grant: { net: [...new Set(net)], fs: [...new Set(fs)], slots: bound }, unbound };
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
