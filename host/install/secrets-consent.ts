/**
 * Secrets in install's consent (docs/secrets.md): which secrets a package asks for and where they go,
 * and whether an update adds a secret or widens where one may be sent (which needs fresh consent, like
 * a new network rule).
 *
 * Threat: an update that quietly rebinds GITHUB_TOKEN from api.github.com to a host its author controls
 * would send the user's token there with no question asked. Any binding the consented version did not
 * have — a new secret, a new place, a rule the old rules do not cover — is shown and asked again.
 */
import { describeSecretPlace, intersectNetGrants, netRuleToString, parseSecretBinding } from '../../runtime/index.ts';
import type { SecretBinding } from '../../runtime/index.ts';
import type { PackageManifest } from '../manifest.ts';
import { printable } from './consent.ts';

function bindings(pm: PackageManifest): SecretBinding[] {
  return Object.entries(pm.manifest.capabilities.secrets ?? {}).map(([name, decl]) => parseSecretBinding(name, decl));
}

function line(b: SecretBinding, hosts: readonly string[]): string {
  return `${printable(b.name, 64)} → ${hosts.map((h) => printable(h)).join(', ')} (${printable(describeSecretPlace(b.place))})`;
}

/** One line per secret the package declares: "GITHUB_TOKEN → api.github.com (header authorization: Bearer {})". */
export function secretRequestLines(pm: PackageManifest): string[] {
  return bindings(pm).map((b) => line(b, b.rules.map(netRuleToString)));
}

/**
 * The bindings of `next` that `consented` did not have: a secret it did not declare, one sent in another
 * place, or a rule the consented rules do not cover. Empty: no fresh consent needed for secrets. Without
 * the consented manifest (unreadable), every binding counts as new.
 */
export function secretsWidened(consented: PackageManifest | undefined, next: PackageManifest): string[] {
  const before = consented === undefined ? [] : bindings(consented);
  const out: string[] = [];
  for (const b of bindings(next)) {
    const old = before.find((o) => o.name === b.name && JSON.stringify(o.place) === JSON.stringify(b.place));
    const wider = b.rules.filter((r) => {
      if (old === undefined) return true;
      const covered = intersectNetGrants({ rules: [r] }, { rules: old.rules }).rules.map(netRuleToString);
      return !covered.includes(netRuleToString(r));
    });
    if (wider.length > 0) out.push(line(b, wider.map(netRuleToString)));
  }
  return out;
}

/** The consent screen's secrets part: all of them for an install, the widened ones for an update. */
export function describeSecrets(pm: PackageManifest, widened?: readonly string[]): string {
  if (widened !== undefined) return widened.length === 0 ? '' : `${widened.map((l) => `  + secret   ${l}`).join('\n')}\n`;
  const lines = secretRequestLines(pm);
  if (lines.length === 0) return '';
  return `It asks for these secrets (their values are sent only there; the tool never sees them):\n${lines.map((l) => `  secret   ${l}`).join('\n')}\n`;
}
