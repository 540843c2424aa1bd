/**
 * Changing the grant of an installed package after install (`mcp-warden grant` / `revoke`).
 *
 * Threat: the manifest that says which slots exist is read from the verified files (the integrity check
 * of host/home/verify-installed.ts), never from a directory that may have changed since install; a slot is
 * bound with the access the manifest declares, never more. Revoking removes the slot's rule as well as
 * its binding, so nothing keeps the old directory or host reachable.
 */
import { HostError } from '../errors.ts';
import type { Home, InstalledPackage, LockEntry, LockGrant } from '../home/home.ts';
import { parsePackageManifest } from '../manifest.ts';
import type { PackageManifest } from '../manifest.ts';
import { protectedPaths } from '../home/protected.ts';
import { verifyInstalled } from '../home/verify-installed.ts';
import { bindSlot, manifestSlots } from './grant.ts';
import type { SlotInfo } from './grant.ts';

/** The manifest of an installed package, from its verified files. @throws HostError INTEGRITY_MISMATCH, PACKAGE_INVALID, MANIFEST_INVALID */
export async function installedManifest(home: Home, pkg: InstalledPackage): Promise<PackageManifest> {
  const verified = await verifyInstalled(pkg, home);
  const raw = verified.files.get('package.json');
  if (!raw) throw new HostError('PACKAGE_INVALID', `${pkg.name}: package.json is missing`);
  return parsePackageManifest(JSON.parse(raw.toString('utf8')) as unknown);
}

/** The grant without slot `slot` (its binding and the rule it produced). */
function withoutSlot(grant: LockGrant, slot: SlotInfo): LockGrant {
  const old = grant.slots[slot.slot];
  if (old === undefined) return grant;
  const slots = { ...grant.slots };
  delete slots[slot.slot];
  return {
    net: slot.kind === 'host' ? grant.net.filter((r) => r !== old) : grant.net,
    fs: slot.kind === 'path' ? grant.fs.filter((r) => r !== `${slot.access ?? 'read'}:${old}`) : grant.fs,
    slots,
  };
}

function slotOf(pm: PackageManifest, name: string): SlotInfo {
  const slots = manifestSlots(pm);
  const s = slots.find((x) => x.slot === name);
  if (!s) throw new HostError('USAGE', `${pm.name} declares no slot "${name.slice(0, 40)}" (it declares: ${slots.map((x) => x.slot).join(', ') || 'none'})`);
  return s;
}

/** The asked rules without slot `slot`'s old rule (an asked slot, docs/consent.md). */
function asksWithoutSlot(entry: LockEntry, slot: SlotInfo): LockEntry['asks'] {
  const old = entry.grant.slots[slot.slot];
  if (old === undefined || entry.asks === undefined) return entry.asks;
  const rule = slot.kind === 'host' ? old : `${slot.access ?? 'read'}:${old}`;
  return { net: entry.asks.net.filter((r) => r !== rule), fs: entry.asks.fs.filter((r) => r !== rule) };
}

/**
 * The entry with `bindings` bound (replacing earlier bindings of the same slots). A slot the manifest marks
 * `"consent": "ask"` is bound but its rule is asked at first use, as at install (docs/consent.md).
 * @throws HostError USAGE, GRANT_INVALID, GRANT_COVERS_HOME
 */
export async function rebind(entry: LockEntry, pm: PackageManifest, bindings: Readonly<Record<string, string>>, cwd: string, home: Home): Promise<LockEntry> {
  const protect = await protectedPaths(home);
  let grant = entry.grant;
  let asks = entry.asks;
  for (const [name, value] of Object.entries(bindings)) {
    const slot = slotOf(pm, name);
    const b = await bindSlot(slot, value, cwd, protect);
    if (slot.ask) asks = asksWithoutSlot({ ...entry, grant, ...(asks ? { asks } : {}) }, slot);
    const base = withoutSlot(grant, slot);
    const toGrant: { net?: string; fs?: string } = slot.ask ? {} : b;
    grant = {
      net: toGrant.net !== undefined && !base.net.includes(toGrant.net) ? [...base.net, toGrant.net] : base.net,
      fs: toGrant.fs !== undefined && !base.fs.includes(toGrant.fs) ? [...base.fs, toGrant.fs] : base.fs,
      slots: { ...base.slots, [name]: b.slot },
    };
    if (slot.ask) {
      const a = asks ?? { net: [], fs: [] };
      asks = { net: b.net !== undefined && !a.net.includes(b.net) ? [...a.net, b.net] : a.net, fs: b.fs !== undefined && !a.fs.includes(b.fs) ? [...a.fs, b.fs] : a.fs };
    }
  }
  return { ...entry, grant, ...(asks ? { asks } : {}) };
}

/** The entry with `names` unbound. @throws HostError USAGE */
export function unbind(entry: LockEntry, pm: PackageManifest, names: readonly string[]): LockEntry {
  let grant = entry.grant;
  for (const name of names) grant = withoutSlot(grant, slotOf(pm, name));
  return { ...entry, grant };
}
