/**
 * The user's answers to asked capabilities (docs/consent.md) as changes to a lock entry, pure: "always" adds
 * the rule to the grant, "never" records a refusal, "forget" removes both (asked again). Used by the
 * client's answers (host/serve/consent/store.ts) and by `mcp-warden grant --allow/--deny/--forget`.
 *
 * Threat: only a rule the sealed entry asks for can be answered: an answer never grants what the package
 * did not declare, and a package cannot name the rule it would like granted (the rule comes from the lock).
 */
import { HostError } from '../../errors.ts';
import type { LockEntry, LockRules } from '../../home/home.ts';
import { canonicalRule } from '../../install/grant.ts';

export type ConsentAnswer = 'always' | 'never' | 'forget';

/** One asked capability: its kind and canonical rule. */
export interface AskedCapability {
  readonly kind: 'net' | 'fs';
  readonly rule: string;
}

/**
 * What an "always" answer adds to the package's grant, as plain rules: the value the merge passes through
 * the organisation policy's ceilings (host/policy) before it is stored; a refusal there is an answer of
 * "never" the user did not give, so it is reported as the policy's refusal and nothing is stored.
 */
export function askedRule(asked: AskedCapability): LockRules {
  return asked.kind === 'net' ? { net: [asked.rule], fs: [] } : { net: [], fs: [asked.rule] };
}

/**
 * `KIND:RULE` of the CLI (net:api.example.com, fs:write:/home/u/notes), canonical.
 * @throws HostError USAGE
 */
export function parseAskedArg(text: string): AskedCapability {
  const m = /^(net|fs):(.+)$/s.exec(text);
  if (!m) throw new HostError('USAGE', `expected net:RULE or fs:read:/PATH / fs:write:/PATH, got ${JSON.stringify(text.slice(0, 100))}`);
  const kind = m[1] === 'net' ? 'net' : 'fs';
  try {
    return { kind, rule: canonicalRule(kind, m[2] as string) };
  } catch (e) {
    throw new HostError('USAGE', `${JSON.stringify(text.slice(0, 100))}: ${e instanceof Error ? e.message.slice(0, 200) : 'not a rule'}`);
  }
}

/** A word quoted for a POSIX shell when it needs it. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command that answers for the user from a terminal, e.g. `mcp-warden grant weather --allow net:api.example.com`. */
export function consentCommand(pkg: string, asked: AskedCapability, flag: '--allow' | '--deny' | '--forget' = '--allow'): string {
  return `mcp-warden grant ${shellWord(pkg)} ${flag} ${shellWord(`${asked.kind}:${asked.rule}`)}`;
}

const without = (list: readonly string[], rule: string): string[] => list.filter((r) => r !== rule);
const withRule = (list: readonly string[], rule: string): string[] => (list.includes(rule) ? [...list] : [...list, rule]);

/**
 * The entry after an answer. A slot's binding stays as it is (it was bound at install, only its rule waits).
 * @throws HostError GRANT_INVALID when the entry does not ask for that rule
 */
export function applyConsent(name: string, entry: LockEntry, asked: AskedCapability, answer: ConsentAnswer): LockEntry {
  const asks = entry.asks?.[asked.kind] ?? [];
  if (!asks.includes(asked.rule)) {
    const all = [...(entry.asks?.net ?? []).map((r) => `net:${r}`), ...(entry.asks?.fs ?? []).map((r) => `fs:${r}`)];
    throw new HostError('GRANT_INVALID', `${name} does not ask for ${asked.kind}:${asked.rule.slice(0, 200)} at first use (it asks for: ${all.join(', ').slice(0, 500) || 'nothing'})`);
  }
  const k = asked.kind;
  const granted = answer === 'always' ? withRule(entry.grant[k], asked.rule) : without(entry.grant[k], asked.rule);
  const refused = answer === 'never' ? withRule(entry.refusals?.[k] ?? [], asked.rule) : without(entry.refusals?.[k] ?? [], asked.rule);
  const refusals: LockRules = { net: k === 'net' ? refused : [...(entry.refusals?.net ?? [])], fs: k === 'fs' ? refused : [...(entry.refusals?.fs ?? [])] };
  const { refusals: _old, ...rest } = entry;
  return {
    ...rest,
    grant: { ...entry.grant, [k]: granted },
    ...(refusals.net.length + refusals.fs.length > 0 ? { refusals } : {}),
  };
}
