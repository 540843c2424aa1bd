/**
 * The rules a loaded package asks at first use (docs/consent.md), as the runtime matches them: from the
 * sealed lock entry (`asks` minus what is granted, `refusals` apart), or for a --dev package from its manifest.
 *
 * Threat: the lock entry is sealed, so its asks are what install recorded and the user saw; file rules are
 * matched on real paths (resolved here, as the grant's are), and the runtime checks the real path of what
 * it opens again under the widened grant, so a symlink cannot turn an asked directory into another one.
 */
import { realpath } from 'node:fs/promises';
import { parseAskGrant, parseFsRule } from '../../../runtime/index.ts';
import type { AskGrant, AskRule } from '../../../runtime/index.ts';
import { HostError } from '../../errors.ts';
import type { LockRules } from '../../home/home.ts';
import { canonicalRule } from '../../install/grant.ts';
import type { PackageManifest } from '../../manifest.ts';

const NONE: LockRules = { net: [], fs: [] };

/** A --dev package's asked rules: its fixed ask rules and its bound ask slots, canonical. */
export function devAsks(pm: PackageManifest, slots: Readonly<Record<string, string>>): LockRules {
  const caps = pm.manifest.capabilities;
  const canon = (kind: 'net' | 'fs', r: string): string[] => {
    try {
      return [canonicalRule(kind, r)];
    } catch {
      return [];
    }
  };
  return {
    net: [...(caps.ask?.net ?? []).flatMap((r) => canon('net', r.rule)), ...caps.net.flatMap((r) => (typeof r !== 'string' && r.consent === 'ask' && slots[r.slot] !== undefined ? canon('net', slots[r.slot] as string) : []))],
    fs: [...(caps.ask?.fs ?? []).flatMap((r) => canon('fs', r.rule)), ...caps.fs.flatMap((r) => (typeof r !== 'string' && r.consent === 'ask' && slots[r.slot] !== undefined ? canon('fs', `${r.access}:${slots[r.slot]}`) : []))],
  };
}

/** An asked file rule on its real path (the runtime compares real paths); null when the path does not exist. */
async function onRealPath(rule: AskRule): Promise<AskRule | null> {
  if (rule.kind !== 'fs') return rule;
  try {
    const real = await realpath(rule.fs.path);
    return { kind: 'fs', text: rule.text, fs: parseFsRule(`${rule.fs.access}:${real}`) };
  } catch {
    return null;
  }
}

/**
 * The package's ask grant, or undefined when it asks nothing.
 * @throws HostError GRANT_INVALID (a rule that does not parse)
 */
export async function loadAskGrant(entry: { readonly asks?: LockRules; readonly refusals?: LockRules; readonly grant: { readonly net: readonly string[]; readonly fs: readonly string[] } }, what: string): Promise<AskGrant | undefined> {
  const asks = entry.asks ?? NONE;
  if (asks.net.length + asks.fs.length === 0) return undefined;
  let parsed: AskGrant;
  try {
    parsed = parseAskGrant(asks, entry.refusals ?? NONE, entry.grant);
  } catch (e) {
    throw new HostError('GRANT_INVALID', `${what}: an asked rule does not parse: ${e instanceof Error ? e.message.slice(0, 200) : 'invalid'}`);
  }
  const real = async (rules: readonly AskRule[]): Promise<AskRule[]> => (await Promise.all(rules.map(onRealPath))).filter((r): r is AskRule => r !== null);
  return { ask: await real(parsed.ask), refused: await real(parsed.refused) };
}
