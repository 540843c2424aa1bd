/**
 * The DLP detectors: one hand-written, single-pass scanner over a string that reports where sensitive
 * data sits (payment cards, US SSNs, IBANs, API keys and tokens, JWTs, PEM private keys, and optionally
 * e-mail addresses and phone numbers). Pure: no I/O, no clock, no state between calls.
 *
 * Threat: the text is attacker-controlled (a tool's result, log line or request body). A backtracking
 * regular expression over it could be made to take exponential (or quadratic) time, so nothing here uses
 * one: every position is visited a bounded number of times (each look-ahead is capped, or what it read is
 * consumed), so a scan is linear in the length of the text.
 */
import { checksumIban, ibanLength } from './iban.ts';

export const DETECTORS = [
  'card',
  'ssn',
  'iban',
  'aws-access-key',
  'github-token',
  'gitlab-token',
  'slack-token',
  'stripe-key',
  'google-api-key',
  'jwt',
  'private-key',
  'email',
  'phone',
] as const;
export type DetectorId = (typeof DETECTORS)[number];

/** One match: the detector and the [start, end) span of the text. */
export interface Match {
  readonly detector: DetectorId;
  readonly start: number;
  readonly end: number;
}

// Character classes of ASCII, one table lookup per character (the scan's hot loop).
const DIGIT = 1;
const UPPER = 2;
const LOWER = 4;
const ALNUM = DIGIT | UPPER | LOWER;
const CLASS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) CLASS[c] = DIGIT;
for (let c = 65; c <= 90; c++) CLASS[c] = UPPER;
for (let c = 97; c <= 122; c++) CLASS[c] = LOWER;
// A word may start a match only with a digit, an upper-case letter, or the first letter of a token prefix
// (eyJ, ghp_/github_pat_/glpat-, xox…, sk_live_/rk_live_): other words are skipped whole.
const START = 8;
for (const ch of 'egxsr') CLASS[ch.charCodeAt(0)] = LOWER | START;
for (let c = 48; c <= 90; c++) if (CLASS[c] !== 0) CLASS[c] = (CLASS[c] as number) | START;
const classOf = (c: number): number => (c >= 0 && c < 128 ? (CLASS[c] as number) : 0);
const isDigit = (c: number): boolean => (classOf(c) & DIGIT) !== 0;
const isUpper = (c: number): boolean => (classOf(c) & UPPER) !== 0;
const isLower = (c: number): boolean => (classOf(c) & LOWER) !== 0;
const isAlnum = (c: number): boolean => (classOf(c) & ALNUM) !== 0;
/** base64url and the token alphabets: [A-Za-z0-9_-] */
const isWordish = (c: number): boolean => isAlnum(c) || c === 95 || c === 45;
const at = (s: string, i: number): number => (i >= 0 && i < s.length ? s.charCodeAt(i) : -1);

/** The end of the run of ASCII letters and digits from `i`. */
function alnumEnd(s: string, i: number): number {
  const n = s.length;
  let j = i;
  while (j < n) {
    const c = s.charCodeAt(j);
    if (c >= 128 || (CLASS[c] as number) === 0) break;
    j++;
  }
  return j;
}

/** The end of the run of `pred` characters from `i`, reading at most `max` of them. */
function runEnd(s: string, i: number, pred: (c: number) => boolean, max = Infinity): number {
  let j = i;
  while (j < s.length && j - i < max && pred(s.charCodeAt(j))) j++;
  return j;
}

// ---- payment cards ---------------------------------------------------------------------------------

/** Luhn over the digits of `digits` (a string of ASCII digits). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Issuer ranges (IIN prefixes) with the lengths their cards have: [low, high, prefix digits, min len, max len]. */
const IIN: readonly (readonly [number, number, number, number, number])[] = [
  [4, 4, 1, 13, 19], // Visa (13, 16, 19)
  [51, 55, 2, 16, 16], // Mastercard
  [2221, 2720, 4, 16, 16], // Mastercard 2-series
  [34, 34, 2, 15, 15], // American Express
  [37, 37, 2, 15, 15],
  [300, 305, 3, 14, 19], // Diners Club
  [36, 36, 2, 14, 19],
  [38, 39, 2, 16, 19],
  [6011, 6011, 4, 16, 19], // Discover
  [644, 649, 3, 16, 19],
  [65, 65, 2, 16, 19],
  [62, 62, 2, 16, 19], // UnionPay
  [3528, 3589, 4, 16, 19], // JCB
  [50, 50, 2, 13, 19], // Maestro
  [56, 58, 2, 13, 19],
  [60, 69, 2, 13, 19],
];

/** Whether a digit string has the prefix and length of a real issuer's card. */
export function plausibleIin(digits: string): boolean {
  for (const [low, high, n, min, max] of IIN) {
    if (digits.length < min || digits.length > max) continue;
    const p = Number(digits.slice(0, n));
    if (p >= low && p <= high) return true;
  }
  return false;
}

export function isCardNumber(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && plausibleIin(digits) && luhnValid(digits);
}

// ---- SSN --------------------------------------------------------------------------------------------

/** A US SSN's three parts, excluding what the SSA never issues (area 000, 666, 900–999; group 00; serial 0000). */
export function isSsn(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  if (a === 0 || a === 666 || a >= 900) return false;
  if (group === '00' || serial === '0000') return false;
  // Published in advertising (the Woolworth wallet card): not anyone's.
  if (area === '078' && group === '05' && serial === '1120') return false;
  return true;
}

// ---- runs of digits ---------------------------------------------------------------------------------

interface Group {
  readonly start: number;
  readonly end: number;
  /** The separator before it (' ' or '-'), or 0 for the first group. */
  readonly sep: number;
}

const MAX_GROUPS = 24;

/**
 * Digit groups from `i` joined by single spaces or dashes (at most MAX_GROUPS; a longer run is cut and
 * the rest scanned afresh). Returns the groups and where the run ends.
 */
function digitGroups(s: string, i: number): Group[] {
  const groups: Group[] = [];
  let j = i;
  let sep = 0;
  while (groups.length < MAX_GROUPS) {
    const end = runEnd(s, j, isDigit, 64);
    groups.push({ start: j, end, sep });
    const c = at(s, end);
    if ((c === 32 || c === 45) && isDigit(at(s, end + 1))) {
      sep = c;
      j = end + 1;
      continue;
    }
    break;
  }
  return groups;
}

/** Matches inside one run of digit groups, in order, not overlapping. */
function scanDigitRun(s: string, groups: readonly Group[], want: (d: DetectorId) => boolean, out: Match[]): void {
  const plus = want('phone') && at(s, (groups[0] as Group).start - 1) === 43; // '+'
  if (plus) {
    let total = 0;
    for (const g of groups) total += g.end - g.start;
    if (total >= 8 && total <= 15) {
      out.push({ detector: 'phone', start: (groups[0] as Group).start - 1, end: (groups[groups.length - 1] as Group).end });
      return;
    }
  }
  let g = 0;
  while (g < groups.length) {
    const first = groups[g] as Group;
    // SSN: exactly ddd-dd-dddd (or spaces), the whole run.
    if (want('ssn') && groups.length === 3 && g === 0) {
      const [a, b, c] = groups as [Group, Group, Group];
      if (a.end - a.start === 3 && b.end - b.start === 2 && c.end - c.start === 4 && b.sep === c.sep && isSsn(s.slice(a.start, a.end), s.slice(b.start, b.end), s.slice(c.start, c.end))) {
        out.push({ detector: 'ssn', start: a.start, end: c.end });
        return;
      }
    }
    // Phone (NANP): ddd-ddd-dddd, the whole run.
    if (want('phone') && groups.length === 3 && g === 0) {
      const [a, b, c] = groups as [Group, Group, Group];
      if (a.end - a.start === 3 && b.end - b.start === 3 && c.end - c.start === 4 && b.sep === c.sep && at(s, a.start) !== 48 && at(s, a.start) !== 49) {
        out.push({ detector: 'phone', start: a.start, end: c.end });
        return;
      }
    }
    // Card: groups g..h with one separator kind, 13–19 digits in all. At most 19 groups are tried from g.
    if (want('card')) {
      let digits = '';
      let found = -1;
      for (let h = g; h < groups.length; h++) {
        const grp = groups[h] as Group;
        if (h > g && grp.sep !== (groups[g + 1] as Group).sep) break;
        digits += s.slice(grp.start, grp.end);
        if (digits.length > 19) break;
        if (digits.length >= 13 && isCardNumber(digits)) found = h;
      }
      if (found >= 0) {
        out.push({ detector: 'card', start: first.start, end: (groups[found] as Group).end });
        g = found + 1;
        continue;
      }
    }
    g++;
  }
}

// ---- tokens ------------------------------------------------------------------------------------------

const AWS_PREFIXES = new Set(['AKIA', 'ASIA', 'ABIA', 'ACCA', 'AGPA', 'AIDA', 'AROA', 'AIPA', 'ANPA', 'ANVA', 'APKA']);
const isAwsChar = (c: number): boolean => isUpper(c) || isDigit(c);
const isB64url = isWordish;

/** The end of a token that starts at `i` with `prefix` followed by `min`..`max` chars of `pred`, or -1. */
function prefixed(s: string, i: number, prefix: string, pred: (c: number) => boolean, min: number, max: number): number {
  if (!s.startsWith(prefix, i)) return -1;
  const from = i + prefix.length;
  const end = runEnd(s, from, pred, max + 1);
  const n = end - from;
  if (n < min || n > max) return -1;
  return end;
}

function decodeB64url(s: string): string | null {
  try {
    return Buffer.from(s, 'base64url').toString('utf8');
  } catch {
    return null;
  }
}

/**
 * A JWT from `i` (three base64url parts, the first a JSON object): its end, or -1; `read` is how far a
 * failed attempt may skip (the header run only, so what follows is still scanned).
 */
function jwtAt(s: string, i: number): { end: number; read: number } {
  const h = runEnd(s, i, isB64url, 4096);
  const fail = { end: -1, read: h };
  if (at(s, h) !== 46) return fail;
  const header = decodeB64url(s.slice(i, h));
  // Cheap refusals first: a JSON object ends with '}' (JSON.parse throwing costs far more).
  if (header === null || header.trimEnd().charCodeAt(header.trimEnd().length - 1) !== 125) return fail;
  try {
    const parsed: unknown = JSON.parse(header);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return fail;
  } catch {
    return fail;
  }
  const p = runEnd(s, h + 1, isB64url);
  if (p === h + 1 || at(s, p) !== 46) return fail;
  return { end: runEnd(s, p + 1, isB64url), read: h };
}

/** A token starting at word start `i` (its first char a letter): [detector, end] or null. */
function tokenAt(s: string, i: number, want: (d: DetectorId) => boolean): [DetectorId, number] | null {
  const c = s.charCodeAt(i);
  let end: number;
  switch (c) {
    case 65: // A
      if (want('aws-access-key') && AWS_PREFIXES.has(s.slice(i, i + 4)) && (end = prefixed(s, i + 4, '', isAwsChar, 16, 16)) > 0) return ['aws-access-key', end];
      if (want('google-api-key') && (end = prefixed(s, i, 'AIza', isWordish, 35, 35)) > 0) return ['google-api-key', end];
      return null;
    case 103: // g
      if (want('github-token') && s.charCodeAt(i + 1) === 104 && s.charCodeAt(i + 3) === 95 && 'pousr'.includes(s.charAt(i + 2)) && (end = prefixed(s, i + 4, '', isAlnum, 36, 36)) > 0) return ['github-token', end];
      if (want('github-token') && (end = prefixed(s, i, 'github_pat_', (x) => isAlnum(x) || x === 95, 50, Infinity)) > 0) return ['github-token', end];
      if (want('gitlab-token') && (end = prefixed(s, i, 'glpat-', isWordish, 20, Infinity)) > 0) return ['gitlab-token', end];
      return null;
    case 120: // x
      if (want('slack-token') && s.startsWith('xox', i) && 'abpors'.includes(s.charAt(i + 3)) && s.charCodeAt(i + 4) === 45 && (end = prefixed(s, i + 5, '', (x) => isAlnum(x) || x === 45, 10, Infinity)) > 0) return ['slack-token', end];
      return null;
    case 115: // s
    case 114: // r
      if (want('stripe-key') && s.startsWith('k_live_', i + 1) && (end = prefixed(s, i + 8, '', isAlnum, 24, Infinity)) > 0) return ['stripe-key', end];
      return null;
    default:
      return null;
  }
}

// ---- IBAN --------------------------------------------------------------------------------------------

/** An IBAN from `i` (compact, or in groups of four separated by single spaces): its end, or -1. */
function ibanAt(s: string, i: number): number {
  if (!isUpper(at(s, i + 1)) || !isDigit(at(s, i + 2)) || !isDigit(at(s, i + 3))) return -1;
  const len = ibanLength(s.slice(i, i + 2));
  if (len === undefined) return -1;
  let compact = s.slice(i, i + 4);
  let j = i + 4;
  let spaced = false;
  while (compact.length < len) {
    const c = at(s, j);
    if (isUpper(c) || isDigit(c)) {
      compact += s.charAt(j);
      j++;
    } else if (c === 32 && (compact.length % 4 === 0) && (isUpper(at(s, j + 1)) || isDigit(at(s, j + 1))) && (spaced || compact.length === 4)) {
      spaced = true;
      j++;
    } else return -1;
  }
  if (isAlnum(at(s, j))) return -1;
  return checksumIban(compact) ? j : -1;
}

// ---- e-mail ------------------------------------------------------------------------------------------

const isLocalChar = (c: number): boolean => isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
const isDomainChar = (c: number): boolean => isAlnum(c) || c === 45;

/** An address around the '@' at `i`, not starting before `floor`: [start, end] or null. */
function emailAt(s: string, i: number, floor: number): [number, number] | null {
  let start = i;
  while (start > floor && i - start < 64 && isLocalChar(s.charCodeAt(start - 1))) start--;
  if (start === i) return null;
  let j = i + 1;
  let labels = 0;
  let lastLabelAlpha = false;
  while (j - i < 254) {
    const e = runEnd(s, j, isDomainChar, 63);
    if (e === j) break;
    labels++;
    lastLabelAlpha = e - j >= 2 && [...s.slice(j, e)].every((ch) => isUpper(ch.charCodeAt(0)) || isLower(ch.charCodeAt(0)));
    if (at(s, e) === 46 && isDomainChar(at(s, e + 1))) j = e + 1;
    else {
      j = e;
      break;
    }
  }
  if (labels < 2 || !lastLabelAlpha) return null;
  return [start, j];
}

// ---- PEM ---------------------------------------------------------------------------------------------

const PEM_BEGIN = '-----BEGIN ';

/** A private key block from `i` ("-----BEGIN … PRIVATE KEY-----" … "-----END … PRIVATE KEY-----"): its end, or -1. */
function pemAt(s: string, i: number, noEnd: { value: boolean }): number {
  const lineEnd = runEnd(s, i + PEM_BEGIN.length, (c) => isUpper(c) || c === 32, 40);
  const label = s.slice(i + PEM_BEGIN.length, lineEnd);
  if (!label.endsWith('PRIVATE KEY') || !s.startsWith('-----', lineEnd)) return -1;
  // No END after this BEGIN means none after a later one either: the key runs to the end of the text.
  if (noEnd.value) return s.length;
  const endMarker = s.indexOf(`-----END ${label}-----`, lineEnd);
  if (endMarker < 0) {
    if (s.indexOf('-----END ', lineEnd) < 0) noEnd.value = true;
    return s.length;
  }
  return endMarker + `-----END ${label}-----`.length;
}

// ---- the scan ----------------------------------------------------------------------------------------

/**
 * Every match of the detectors `want` accepts, in order of position, not overlapping. Linear in
 * `text.length`.
 */
export function scanText(text: string, want: (d: DetectorId) => boolean): Match[] {
  const out: Match[] = [];
  const s = text;
  const n = s.length;
  const wantPem = want('private-key');
  const wantEmail = want('email');
  const wantDigits = want('card') || want('ssn') || want('phone');
  const wantIban = want('iban');
  const wantJwt = want('jwt');
  const wantTokens = want('aws-access-key') || want('google-api-key') || want('github-token') || want('gitlab-token') || want('slack-token') || want('stripe-key');
  const noEnd = { value: false };
  let lastEnd = 0;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CLASS[c] as number) === 0) {
      if (c === 45 && wantPem && s.startsWith(PEM_BEGIN, i)) {
        const end = pemAt(s, i, noEnd);
        if (end > 0) {
          out.push({ detector: 'private-key', start: i, end });
          i = lastEnd = end;
          continue;
        }
      } else if (c === 64 && wantEmail) {
        const m = emailAt(s, i, lastEnd);
        if (m !== null) {
          out.push({ detector: 'email', start: m[0], end: m[1] });
          i = lastEnd = m[1];
          continue;
        }
      }
      i++;
      continue;
    }
    const k = (CLASS[c] as number) & ALNUM;
    // A word starts here only after a non-alphanumeric character, and matters only with a START character.
    if ((i > 0 && isAlnum(s.charCodeAt(i - 1))) || ((CLASS[c] as number) & START) === 0) {
      i = alnumEnd(s, i);
      continue;
    }
    if (k === DIGIT) {
      if (wantDigits) {
        // Fast path, no allocation: a lone group too short to be a card or a phone number.
        const e = alnumEnd(s, i);
        const next = at(s, e);
        if (e - i < 8 && !((next === 32 || next === 45) && isDigit(at(s, e + 1)))) {
          i = e;
          continue;
        }
        const groups = digitGroups(s, i);
        const last = groups[groups.length - 1] as Group;
        // A run glued to letters (an identifier, a hash) is no number.
        if ((groups.length > 1 || last.end - last.start >= 8) && !isAlnum(at(s, last.end))) {
          const before = out.length;
          scanDigitRun(s, groups, want, out);
          if (out.length > before) lastEnd = (out[out.length - 1] as Match).end;
        }
        i = last.end;
        continue;
      }
      i = alnumEnd(s, i);
      continue;
    }
    if (c === 101 && wantJwt && s.startsWith('eyJ', i)) {
      const j = jwtAt(s, i);
      if (j.end > 0) {
        out.push({ detector: 'jwt', start: i, end: j.end });
        i = lastEnd = j.end;
        continue;
      }
      // Not a JWT: its header run holds none either.
      i = Math.max(j.read, i + 1);
      continue;
    }
    if (k === UPPER && wantIban) {
      const end = ibanAt(s, i);
      if (end > 0) {
        out.push({ detector: 'iban', start: i, end });
        i = lastEnd = end;
        continue;
      }
    }
    if (wantTokens) {
      const token = tokenAt(s, i, want);
      if (token !== null && !isWordish(at(s, token[1]))) {
        out.push({ detector: token[0], start: i, end: token[1] });
        i = lastEnd = token[1];
        continue;
      }
    }
    i = alnumEnd(s, i);
  }
  return out;
}
