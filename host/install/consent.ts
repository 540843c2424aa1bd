/**
 * Showing what a package asks for and asking the user, on a terminal, whether to grant it.
 *
 * Threat: consent is only meaningful if the user saw what they agreed to and a script cannot agree by
 * accident. Without a terminal the answer must come from an explicit --yes; with one, only a typed
 * "y"/"yes" agrees. Descriptions come from the manifest (untrusted): they are shown bounded, with control
 * characters removed, so a package cannot rewrite the prompt with terminal escapes.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { CommandIO } from '../commands/io.ts';
import type { LockEntry, LockGrant, LockRules } from '../home/home.ts';
import { DEFAULT_LIMITS } from '../../runtime/index.ts';
import type { Limits } from '../../runtime/index.ts';
import { effectiveLimits } from '../manifest.ts';
import type { PackageManifest } from '../manifest.ts';
import type { GrantDiff, SlotInfo } from './grant.ts';

/** Manifest text made safe to print: no control characters, bounded. */
export function printable(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, ' ');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** Who signed the package, as verified: shown so the user consents to a publisher, not only to a name. */
export interface ConsentSigner {
  /** The verified signer, readable ("key 1a2b…", "https://github.com/… (issuer …)"). */
  readonly signer: string;
  /** The name it is trusted under in trust.json. */
  readonly publisher: string;
  /** For a package installed from npm: what its verified provenance says built it. */
  readonly provenance?: ConsentProvenance;
}

/** The provenance facts shown at consent (a subset of host/provenance/facts.ts NpmProvenance). */
export interface ConsentProvenance {
  readonly repository: string;
  readonly commit: string;
  readonly workflow: string;
  readonly ref: string;
  readonly builder: string;
  readonly issuer: string;
  readonly transparencyLog: { readonly logIndex: string; readonly integratedTime?: string };
}

/** The provenance lines of the consent screen: each value bounded and printable. */
export function describeProvenance(p: ConsentProvenance): string[] {
  const seconds = Number(p.transparencyLog.integratedTime);
  const when = Number.isSafeInteger(seconds) && seconds > 0 && seconds < 1e11 ? `, logged ${new Date(seconds * 1000).toISOString()}` : '';
  return [
    'Provenance (verified with Sigstore, docs/npm-install.md):',
    `  repository:   ${printable(p.repository, 300)}`,
    `  commit:       ${printable(p.commit, 80)} (${printable(p.ref, 200)})`,
    `  workflow:     ${printable(p.workflow, 300)}`,
    `  builder:      ${printable(p.builder, 300)}`,
    `  issuer:       ${printable(p.issuer, 300)}`,
    `  tlog entry:   index ${printable(p.transparencyLog.logIndex, 40)}${when}`,
  ];
}

/** The limits a package runs with that differ from the defaults: "cpuMs 60000 (default 2000)". */
export function limitsAboveOrBelowDefaults(pm: PackageManifest): string[] {
  const effective = effectiveLimits(pm.manifest.limits);
  return (Object.keys(DEFAULT_LIMITS) as (keyof Limits)[])
    .filter((k) => effective[k] !== DEFAULT_LIMITS[k])
    .map((k) => `${k.padEnd(16)} ${effective[k]} (default ${DEFAULT_LIMITS[k]})`);
}

/** What a package serves besides its tools, by kind (names and the package's own URIs), for display. */
export interface ServedSummary {
  readonly tools: readonly string[];
  readonly resources: readonly string[];
  readonly resourceTemplates: readonly string[];
  readonly prompts: readonly string[];
}

export function servedSummary(pm: PackageManifest): ServedSummary {
  const m = pm.manifest;
  return {
    tools: m.tools.map((t) => t.name),
    resources: m.resources.map((r) => `${r.name} <${r.uri}>`),
    resourceTemplates: m.resourceTemplates.map((t) => `${t.name} <${t.uriTemplate}>`),
    prompts: m.prompts.map((p) => p.name),
  };
}

/**
 * Lines saying what a package serves besides tools: resources (package files), resource templates and
 * prompts (their reads and handler prompts run the package's code, with the same grant as its tools).
 * Names and URIs are the author's: printable, bounded, and at most 8 of each are listed.
 */
export function describeServes(pm: PackageManifest, indent = ''): string[] {
  const s = servedSummary(pm);
  const some = (items: readonly string[]): string => items.slice(0, 8).map((i) => printable(i, 120)).join(', ') + (items.length > 8 ? `, … (${items.length - 8} more)` : '');
  const lines: string[] = [];
  if (s.resources.length > 0) lines.push(`${indent}Resources:   ${s.resources.length} file(s) of the package: ${some(s.resources)}`);
  if (s.resourceTemplates.length > 0) lines.push(`${indent}Templates:   ${s.resourceTemplates.length} resource template(s), read by its code in the sandbox: ${some(s.resourceTemplates)}`);
  if (s.prompts.length > 0) {
    const coded = pm.manifest.prompts.filter((p) => p.handler !== undefined).length;
    lines.push(`${indent}Prompts:     ${s.prompts.length} prompt(s)${coded > 0 ? ` (${coded} produced by its code in the sandbox)` : ''}: ${some(s.prompts)}`);
  }
  return lines;
}

/** The capability summary shown before consent (and printed by install when no prompt showed it). */
export function describeRequest(pm: PackageManifest, grant: LockGrant, unbound: readonly SlotInfo[], diff?: GrantDiff, signer?: ConsentSigner): string {
  const lines: string[] = [];
  lines.push(`${printable(pm.name, 214)}@${printable(pm.version, 64)} provides ${pm.manifest.tools.length} tool(s): ${pm.manifest.tools.map((t) => printable(t.name, 64)).join(', ')}`);
  lines.push(...describeServes(pm));
  if (signer) lines.push(`Signed by:   ${printable(signer.signer, 300)} (trusted as "${printable(signer.publisher, 100)}")`);
  if (signer?.provenance) lines.push(...describeProvenance(signer.provenance));
  if (diff) {
    lines.push('This update changes what the package may use:');
    for (const r of diff.added.net) lines.push(`  + network  ${printable(r)}`);
    for (const r of diff.added.fs) lines.push(`  + files    ${printable(r)}`);
    for (const r of diff.removed.net) lines.push(`  - network  ${printable(r)}`);
    for (const r of diff.removed.fs) lines.push(`  - files    ${printable(r)}`);
    if (diff.added.net.length + diff.added.fs.length + diff.removed.net.length + diff.removed.fs.length === 0) lines.push('  (no change)');
  } else {
    lines.push('It will be allowed to use:');
    for (const r of grant.net) lines.push(`  network  ${printable(r)}`);
    for (const r of grant.fs) lines.push(`  files    ${printable(r)}`);
    if (grant.net.length + grant.fs.length === 0) lines.push('  no network and no files');
  }
  for (const s of unbound) {
    const what = s.kind === 'path' ? `a directory (${s.access ?? 'read'})` : 'a network host';
    lines.push(`  not granted: slot "${printable(s.slot, 32)}", ${what}${s.description ? `: ${printable(s.description)}` : ''} (bind it with --grant ${s.slot}=…)`);
  }
  const limits = limitsAboveOrBelowDefaults(pm);
  if (limits.length === 0) lines.push('Resource limits: the defaults');
  else {
    lines.push('Resource limits it asks for, per call (different from the defaults):');
    for (const l of limits) lines.push(`  ${l}`);
  }
  if (pm.manifest.freshContextPerCall) lines.push('Each call runs in a fresh context (nothing kept between calls).');
  return `${lines.join('\n')}\n`;
}

/**
 * The capabilities asked at first use, for the consent screen (empty when there are none): install does not
 * grant them; the client asks the user the first time a call needs one (docs/consent.md).
 */
export function describeAsks(asks: LockRules, refusals?: LockRules): string {
  const lines: string[] = [];
  for (const kind of ['net', 'fs'] as const) {
    for (const r of asks[kind]) {
      const refused = refusals?.[kind].includes(r) === true;
      lines.push(`  ${kind === 'net' ? 'network' : 'files  '}  ${printable(r)}${refused ? ' (refused earlier: stays refused)' : ''}`);
    }
  }
  return lines.length === 0 ? '' : `Asked at first use (not granted now; you answer once, always or never when a call needs it):\n${lines.join('\n')}\n`;
}

/** The lock entry's `asks` and `refusals` fields (left out when empty). */
export function lockAskFields(asks: LockRules, refusals: LockRules): Pick<LockEntry, 'asks' | 'refusals'> {
  const some = (r: LockRules): boolean => r.net.length + r.fs.length > 0;
  return { ...(some(asks) ? { asks } : {}), ...(some(refusals) ? { refusals } : {}) };
}

/** Whether a human can be asked: standard input and standard error are terminals. */
export function canPrompt(io: CommandIO): boolean {
  const stdin = (io.stdin ?? process.stdin) as Readable & { isTTY?: boolean };
  return stdin.isTTY === true && (io.stderr as { isTTY?: boolean }).isTTY === true;
}

/** Asks a yes/no question on the terminal; only "y" or "yes" is consent. */
export async function askConsent(io: CommandIO, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin ?? process.stdin, output: io.stderr, terminal: false });
  try {
    const answer = await new Promise<string>((resolve) => {
      rl.question(question, resolve);
      rl.once('close', () => resolve(''));
    });
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}
