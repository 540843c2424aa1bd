/**
 * Capabilities asked at first use (docs/consent.md): rules a package's manifest marks `"consent": "ask"`.
 * They are plain data next to the grant, never part of it: a request the grant refuses is matched against
 * them, and only the host's consent (the user's answer) adds the matching rule, for one call or for good.
 * Pure: no I/O, no clock. The host-side pause and the asking live in runtime/host-calls.ts and the host.
 *
 * Threat: an ask rule is the package's own request, not the user's consent; it widens nothing by itself.
 * A refused rule ("never") wins over an askable one, as deny wins over allow.
 */
import { SandboxError } from '../errors.ts';
import { checkFs, parseFsRule } from './fs.ts';
import type { FsAccess, FsGrant, FsRule } from './fs.ts';
import { checkNetTarget, parseNetRule } from './net.ts';
import type { NetGrant, NetRule, NetTarget } from './net.ts';

/** One asked rule: its canonical text (what the lock stores and the user sees) and its parsed form. */
export type AskRule = { readonly kind: 'net'; readonly text: string; readonly net: NetRule } | { readonly kind: 'fs'; readonly text: string; readonly fs: FsRule };

/** The package's asked rules that are still open, and those the user refused. */
export interface AskGrant {
  readonly ask: readonly AskRule[];
  readonly refused: readonly AskRule[];
}

/** Rule texts by kind, as the lock stores them. */
export interface AskRuleTexts {
  readonly net: readonly string[];
  readonly fs: readonly string[];
}

/** What a request that the grant refused matched: an open ask, a refusal, or nothing. */
export type AskMatch = { readonly kind: 'ask'; readonly rule: AskRule } | { readonly kind: 'refused'; readonly rule: AskRule } | null;

function parseOne(kind: 'net' | 'fs', text: string): AskRule {
  return kind === 'net' ? { kind, text, net: parseNetRule(text) } : { kind, text, fs: parseFsRule(text) };
}

/**
 * The ask grant of a package: `asks` minus what is already granted (`granted`) and minus `refused`, which is
 * kept apart so a refused request gets its own code.
 * @throws SandboxError RULE_INVALID
 */
export function parseAskGrant(asks: AskRuleTexts, refused: AskRuleTexts, granted: AskRuleTexts): AskGrant {
  const out: AskRule[] = [];
  const no: AskRule[] = [];
  for (const kind of ['net', 'fs'] as const) {
    for (const text of refused[kind]) if (asks[kind].includes(text)) no.push(parseOne(kind, text));
    for (const text of asks[kind]) if (!refused[kind].includes(text) && !granted[kind].includes(text)) out.push(parseOne(kind, text));
  }
  return { ask: out, refused: no };
}

/** Whether an ask grant has nothing to match (the common case: no ask rules at all). */
export function isEmptyAskGrant(g: AskGrant | undefined): boolean {
  return g === undefined || (g.ask.length === 0 && g.refused.length === 0);
}

/** The refused rule `admits` accepts (refusals first: a "never" is never asked again), else the open ask rule. */
function matchAsk(g: AskGrant, admits: (r: AskRule) => boolean): AskMatch {
  const refused = g.refused.find(admits);
  if (refused) return { kind: 'refused', rule: refused };
  const open = g.ask.find(admits);
  return open ? { kind: 'ask', rule: open } : null;
}

/** A fetch the grant refused: the refused rule that admits it (first), else the open ask rule that does. */
export function matchNetAsk(g: AskGrant, target: NetTarget, method: string): AskMatch {
  return matchAsk(g, (r) => r.kind === 'net' && checkNetTarget({ rules: [r.net] }, target, method).allowed);
}

/** A file access the grant refused (`absPath` normalized): the refused rule that covers it, else the open one. */
export function matchFsAsk(g: AskGrant, access: FsAccess, absPath: string): AskMatch {
  return matchAsk(g, (r) => r.kind === 'fs' && checkFs({ rules: [r.fs] }, access, absPath).allowed);
}

/** `grant` with one asked network rule added (the host consented). */
export function netGrantWith(grant: NetGrant, rule: AskRule): NetGrant {
  if (rule.kind !== 'net') throw new SandboxError('RULE_INVALID', 'not a network rule');
  return { rules: [...grant.rules, rule.net] };
}

/** `grant` with one asked file rule added (the host consented); its denied paths stay denied. */
export function fsGrantWith(grant: FsGrant, rule: AskRule): FsGrant {
  if (rule.kind !== 'fs') throw new SandboxError('RULE_INVALID', 'not a file rule');
  return grant.deny === undefined ? { rules: [...grant.rules, rule.fs] } : { rules: [...grant.rules, rule.fs], deny: grant.deny };
}

/** The access a file operation needs. */
export function fsAccessOf(op: string): FsAccess {
  return op === 'fs.writeFile' || op === 'fs.mkdir' || op === 'fs.rm' ? 'write' : 'read';
}
