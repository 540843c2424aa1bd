/**
 * Tool-poisoning checks over a package's definitions (docs/definition-checks.md): pure, linear in the size
 * of the text (code-point loops, and RE2 for the phrase patterns: no backtracking on package text).
 *
 * Threat: names, descriptions and schemas land in the model's context verbatim. A package can hide
 * instructions there (invisible tag characters, bidi reordering, zero-width splits), write them openly
 * ("ignore previous instructions", "<IMPORTANT>", "read ~/.ssh/id_rsa first"), imitate another tool's
 * name with look-alike letters, or steer the model towards another package's tools (shadowing). The
 * checks find and show them; install and inspect decide (host/install/install.ts, host/commands/inspect.ts).
 */
import { RE2JS } from 're2js';
import { definitionTexts } from './texts.ts';
import type { DefinitionText, Definitions } from './texts.ts';
import { isBidi, isControl, isInvisible, isLatinLetter, isLookalike, isPictographic, isTag, isWordChar, visible } from './unicode.ts';

export const DEFINITION_FINDING_CODES = [
  'DEF_HIDDEN_UNICODE',
  'DEF_BIDI',
  'DEF_CONFUSABLE_NAME',
  'DEF_MIXED_SCRIPT',
  'DEF_INSTRUCTION',
  'DEF_SENSITIVE_PATH',
  'DEF_SHADOWING',
  'DEF_URL',
  'DEF_EMAIL',
  'DEF_OVERSIZED',
] as const;
export type DefinitionFindingCode = (typeof DEFINITION_FINDING_CODES)[number];
export type Severity = 'low' | 'medium' | 'high';

export interface DefinitionFinding {
  readonly code: DefinitionFindingCode;
  readonly severity: Severity;
  /** "tool grep". */
  readonly owner: string;
  /** "inputSchema.properties.q.description". */
  readonly field: string;
  /** A short excerpt around the match, hidden characters spelled out as <U+XXXX>. */
  readonly excerpt: string;
}

export interface CheckContext {
  /** Tool names of the other installed or served packages: namespaced ("ns__tool") and bare. */
  readonly otherTools?: readonly string[];
}

/** A description longer than this is reported (MCP clients show a line or two; models read it all). */
export const MAX_DESCRIPTION_CHARS = 2048;

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { low: 0, medium: 1, high: 2 };
export function atLeastMedium(f: DefinitionFinding): boolean {
  return SEVERITY_RANK[f.severity] >= SEVERITY_RANK.medium;
}

const CI = RE2JS.CASE_INSENSITIVE;
const INSTRUCTION_SOURCES: readonly string[] = [
  String.raw`\b(ignore|disregard|forget|override)\s+(all\s+|any\s+|the\s+|your\s+)*(previous|prior|above|earlier|preceding|other|system)\s+(instructions?|prompts?|rules|messages|directions|guidelines)`,
  String.raw`\b(do\s+not|don'?t|never)\s+(tell|inform|mention|reveal|show|alert|notify|warn)\s+(this\s+|it\s+|anything\s+)?(to\s+)?(the\s+)?user`,
  String.raw`\bwithout\s+(telling|informing|notifying|alerting|asking)\s+(the\s+)?user`,
  String.raw`\b(hide|conceal|keep)\s+(this|it)\s+(secret\s+)?from\s+(the\s+)?user`,
  String.raw`</?\s*(important|system|instructions?|secret|hidden|admin)\s*>`,
  String.raw`\[\s*(system|important|instructions?)\s*\]`,
  String.raw`\bbefore\s+(using|calling|invoking|running)\s+(this|the|any)\s+(tool|function)\b`,
  String.raw`\b(always|first|also|then|must|should)\s+(call|invoke|run|execute|use)\s+(the\s+)?(` + '`' + String.raw`[A-Za-z0-9_.-]+` + '`' + String.raw`|[A-Za-z0-9]+_[A-Za-z0-9_]*)`,
  String.raw`\b(call|invoke|execute)\s+the\s+` + '`?' + String.raw`[A-Za-z0-9_.-]+` + '`?' + String.raw`\s+tool\b`,
  String.raw`\byou\s+(are\s+now|must\s+now|must\s+always|will\s+now)\b`,
  String.raw`\b(new|updated|real)\s+system\s+prompt\b`,
  String.raw`\bpass\s+(its|the|their)\s+(content|contents)\s+(as|in)\b`,
];

const SENSITIVE_PATH_SOURCE = String.raw`(~|\$HOME|%USERPROFILE%)[/\\]\.(ssh|aws|gnupg|kube|docker|netrc|npmrc|pypirc|git-credentials|config/gcloud|cursor|claude)|\bid_(rsa|ed25519|ecdsa|dsa)\b|/etc/(passwd|shadow|sudoers)\b|\bmcp\.json\b|(^|[\s/'"(])\.env\b`;
const URL_SOURCE = String.raw`\b(https?|ftp|file|wss?|data|javascript)://[^\s<>"']+|\bwww\.[a-z0-9-]+\.[a-z0-9.-]+|\b[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|net|org|io|dev|ru|cn|xyz|top|info|app|co|me|ly|site|online|click|link)\b(/[^\s]*)?`;
const EMAIL_SOURCE = String.raw`\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b`;

interface Patterns {
  readonly instructions: readonly RE2JS[];
  readonly sensitivePath: RE2JS;
  readonly url: RE2JS;
  readonly email: RE2JS;
}
let compiled: Patterns | undefined;
/** Compiled on first use (~35 ms): serve imports this module for the policy's strict mode but checks only when one asks. */
function patterns(): Patterns {
  compiled ??= {
    instructions: INSTRUCTION_SOURCES.map((p) => RE2JS.compile(p, CI)),
    sensitivePath: RE2JS.compile(SENSITIVE_PATH_SOURCE, CI),
    url: RE2JS.compile(URL_SOURCE, CI),
    email: RE2JS.compile(EMAIL_SOURCE),
  };
  return compiled;
}

function excerptAround(text: string, start: number, end: number): string {
  const from = Math.max(0, start - 30);
  const to = Math.min(text.length, Math.max(end, start + 1) + 30);
  return `${from > 0 ? '…' : ''}${visible(text.slice(from, to), 160)}${to < text.length ? '…' : ''}`;
}

function firstMatch(re: RE2JS, text: string): { start: number; end: number } | undefined {
  const m = re.matcher(text);
  return m.find() ? { start: m.start(), end: m.end() } : undefined;
}

/** Hidden, bidi and control characters, one pass. */
function checkCharacters(t: DefinitionText, out: DefinitionFinding[]): void {
  const chars = [...t.text];
  let hidden = -1;
  let bidi = -1;
  let offset = 0;
  const offsets: number[] = [];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    offsets.push(offset);
    offset += ch.length;
    const cp = ch.codePointAt(0) as number;
    if (isBidi(cp)) {
      if (bidi < 0) bidi = i;
    } else if (isTag(cp) || isControl(cp) || (isInvisible(cp) && !(cp === 0x200d && isPictographic(chars[i - 1]) && isPictographic(chars[i + 1])))) {
      if (hidden < 0) hidden = i;
    }
  }
  const at = (i: number): string => excerptAround(t.text, offsets[i] as number, (offsets[i] as number) + 1);
  if (hidden >= 0) out.push({ code: 'DEF_HIDDEN_UNICODE', severity: 'high', owner: t.owner, field: t.field, excerpt: at(hidden) });
  if (bidi >= 0) out.push({ code: 'DEF_BIDI', severity: 'high', owner: t.owner, field: t.field, excerpt: at(bidi) });
}

/** Words mixing Latin letters with Cyrillic/Greek look-alikes, or made only of look-alikes among Latin words. */
function checkScripts(t: DefinitionText, out: DefinitionFinding[]): void {
  let latin = false;
  let look = false;
  let other = false;
  let start = 0;
  let found: { start: number; end: number } | undefined;
  let sawLatinWord = false;
  let lookOnlyWord: { start: number; end: number } | undefined;
  const flush = (end: number): void => {
    if (latin && look && !found) found = { start, end };
    if (latin && !look) sawLatinWord = true;
    if (look && !latin && !other && !lookOnlyWord) lookOnlyWord = { start, end };
    latin = look = other = false;
  };
  let i = 0;
  for (const ch of t.text) {
    if (isWordChar(ch)) {
      if (!latin && !look && !other) start = i;
      const cp = ch.codePointAt(0) as number;
      if (isLookalike(cp)) look = true;
      else if (isLatinLetter(ch)) latin = true;
      else if (!/^[\p{N}\p{M}_-]$/u.test(ch)) other = true;
    } else flush(i);
    i += ch.length;
  }
  flush(i);
  // A word spelt only with look-alikes counts when the text is otherwise Latin, or is a name.
  const hit = found ?? (lookOnlyWord && (sawLatinWord || t.kind === 'name') ? lookOnlyWord : undefined);
  if (!hit) return;
  const nameLike = t.kind === 'name' || t.kind === 'title';
  out.push({ code: nameLike ? 'DEF_CONFUSABLE_NAME' : 'DEF_MIXED_SCRIPT', severity: nameLike ? 'high' : 'medium', owner: t.owner, field: t.field, excerpt: excerptAround(t.text, hit.start, hit.end) });
}

function checkPatterns(t: DefinitionText, out: DefinitionFinding[]): void {
  const push = (code: DefinitionFindingCode, severity: Severity, m: { start: number; end: number }): void => {
    out.push({ code, severity, owner: t.owner, field: t.field, excerpt: excerptAround(t.text, m.start, m.end) });
  };
  for (const re of patterns().instructions) {
    const m = firstMatch(re, t.text);
    if (m) {
      push('DEF_INSTRUCTION', 'high', m);
      break;
    }
  }
  const path = firstMatch(patterns().sensitivePath, t.text);
  if (path) push('DEF_SENSITIVE_PATH', 'high', path);
  // Prompt messages are content the user asks for; links there are the user's business.
  if (t.kind === 'message') return;
  const email = firstMatch(patterns().email, t.text);
  if (email) push('DEF_EMAIL', 'low', email);
  const url = firstMatch(patterns().url, t.text);
  if (url && !(email && url.start >= email.start && url.end <= email.end)) push('DEF_URL', 'low', url);
  if (t.kind === 'description' && t.text.length > MAX_DESCRIPTION_CHARS) {
    out.push({ code: 'DEF_OVERSIZED', severity: 'medium', owner: t.owner, field: t.field, excerpt: `${t.text.length} characters (at most ${MAX_DESCRIPTION_CHARS} expected)` });
  }
}

/** Another package's tool named in this text: namespaced names always; bare names only when distinctive. */
function checkShadowing(t: DefinitionText, others: ReadonlySet<string>, own: ReadonlySet<string>, out: DefinitionFinding[]): void {
  if (others.size === 0 || t.kind === 'name') return;
  let word = '';
  let start = 0;
  let i = 0;
  const test = (end: number): boolean => {
    let a = 0;
    let b = word.length;
    while (a < b && '._-'.includes(word[a] as string)) a++;
    while (b > a && '._-'.includes(word[b - 1] as string)) b--;
    const w = word.slice(a, b);
    word = '';
    if (w === '' || own.has(w) || !others.has(w)) return false;
    const namespaced = w.includes('__');
    out.push({ code: 'DEF_SHADOWING', severity: namespaced ? 'high' : 'medium', owner: t.owner, field: t.field, excerpt: excerptAround(t.text, start, end) });
    return true;
  };
  for (const ch of t.text) {
    if (/^[A-Za-z0-9_.-]$/.test(ch)) {
      if (word === '') start = i;
      word += ch;
    } else if (word !== '' && test(i)) return;
    i += ch.length;
  }
  if (word !== '') test(i);
}

/** Bare names worth matching: with a separator and at least 4 characters ("send_email", not "get"). */
function distinctive(name: string): boolean {
  return name.length >= 4 && /[_-]/.test(name);
}

/** Every finding over the package's definitions, in the order of definitionTexts. */
export function checkDefinitions(defs: Definitions, ctx: CheckContext = {}): DefinitionFinding[] {
  const own = new Set(defs.tools.map((t) => t.name));
  const others = new Set((ctx.otherTools ?? []).filter((n) => n.includes('__') || distinctive(n)));
  const out: DefinitionFinding[] = [];
  for (const t of definitionTexts(defs)) {
    checkCharacters(t, out);
    if (t.kind !== 'message') checkScripts(t, out);
    checkPatterns(t, out);
    checkShadowing(t, others, own, out);
  }
  return out;
}

/** One line per finding, for the terminal. */
export function describeFindings(findings: readonly DefinitionFinding[]): string {
  return findings.map((f) => `  [${f.severity}] ${f.code} ${f.owner} ${f.field}: ${f.excerpt}\n`).join('');
}
