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
import { ALNUM, CLASS, DIGIT, START, UPPER, alnumEnd, at, isAlnum, isDigit, isLower, isUpper, isWordish, runEnd } from './chars.ts';
import { checksumIban, ibanLength } from './iban.ts';
import { digitGroups, scanDigitRun } from './numbers.ts';
import type { Group } from './numbers.ts';
import { PEM_BEGIN, jwtAt, pemAt, tokenAt } from './tokens.ts';

export { isCardNumber, isSsn, luhnValid, plausibleIin } from './numbers.ts';

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
