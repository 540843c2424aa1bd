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
import { CLASS, DIGIT, START, UPPER, alnumEnd, at, isAlnum, isDigit, isLower, isUpper, isWordish, runEnd } from './chars.ts';
import { checksumIban, ibanLength } from './iban.ts';
import { GROUP_END, digitGroups, scanDigitRun } from './numbers.ts';
import { AWS, GITHUB, GITLAB, GOOGLE, PEM_BEGIN, SLACK, STRIPE, jwtAt, pemAt, tokenAt } from './tokens.ts';

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

// The skip to the next candidate, one table lookup and one branch per character: bit 1 a letter or digit,
// 2 one that may start a match (START), 4 '-' (a PEM block's "-----BEGIN "), 8 '@' (an e-mail address).
const SCAN = new Uint8Array(65536);
for (let c = 0; c < 128; c++) {
  const k = CLASS[c] as number;
  if (k !== 0) SCAN[c] = 1 | ((k & START) !== 0 ? 2 : 0);
}
SCAN[45] = 4;
SCAN[64] = 8;

/**
 * The next candidate from `i`: a START character that begins a word (no letter or digit before it), or a
 * character whose SCAN bits meet `stop` ('-', '@'); `n` if none. Other words are skipped whole, as the
 * text between them.
 */
function nextCandidate(s: string, i: number, n: number, stop: number): number {
  const mask = stop | 2;
  // 2 while the previous character is a letter or digit: a START character then is inside a word.
  let inWord = i > 0 ? ((SCAN[s.charCodeAt(i - 1)] as number) & 1) << 1 : 0;
  let j = i;
  while (j < n) {
    const t = SCAN[s.charCodeAt(j)] as number;
    if ((t & mask & ~inWord) !== 0) break;
    inWord = (t & 1) << 1;
    j++;
  }
  return j;
}

/**
 * Every match of the detectors `want` accepts, in order of position, not overlapping. Linear in
 * `text.length`. `want` is asked once per detector, up front; the loop allocates nothing until a
 * candidate needs a closer look (a run of digits long enough, a token prefix, an '@', "-----BEGIN ").
 */
export function scanText(text: string, want: (d: DetectorId) => boolean): Match[] {
  const out: Match[] = [];
  const s = text;
  const n = s.length;
  const wantPem = want('private-key');
  const wantEmail = want('email');
  const wantCard = want('card');
  const wantSsn = want('ssn');
  const wantPhone = want('phone');
  const wantDigits = wantCard || wantSsn || wantPhone;
  const wantIban = want('iban');
  const wantJwt = want('jwt');
  const tokens =
    (want('aws-access-key') ? AWS : 0) |
    (want('google-api-key') ? GOOGLE : 0) |
    (want('github-token') ? GITHUB : 0) |
    (want('gitlab-token') ? GITLAB : 0) |
    (want('slack-token') ? SLACK : 0) |
    (want('stripe-key') ? STRIPE : 0);
  const tokensA = tokens & (AWS | GOOGLE);
  const noEnd = { value: false };
  let lastEnd = 0;
  const stop = (wantPem ? 4 : 0) | (wantEmail ? 8 : 0);
  let i = 0;
  for (;;) {
    i = nextCandidate(s, i, n, stop);
    if (i >= n) break;
    const c = s.charCodeAt(i);
    const cls = CLASS[c] as number;
    if (cls === 0) {
      if (c === 45) {
        if (s.charCodeAt(i + 1) === 45 && s.startsWith(PEM_BEGIN, i)) {
          const end = pemAt(s, i, noEnd);
          if (end > 0) {
            out.push({ detector: 'private-key', start: i, end });
            i = lastEnd = end;
            continue;
          }
        }
      } else {
        // '@'
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
    // Here a word starts (after no letter or digit) with a START character.
    if ((cls & DIGIT) !== 0) {
      const e = alnumEnd(s, i + 1, n);
      if (!wantDigits) {
        i = e;
        continue;
      }
      // Fast paths, no allocation. Unless a space or dash and a digit follow, the word is one group at
      // most (or digits glued to letters, no number): too short for any match, or a card's or '+' phone
      // number's length only.
      let joined = false;
      if (e + 1 < n) {
        const next = s.charCodeAt(e);
        if (next === 32 || next === 45) {
          const d = s.charCodeAt(e + 1);
          joined = d >= 48 && d <= 57;
        }
      }
      if (!joined) {
        const len = e - i;
        if (len < 8 || !((wantCard && len >= 13 && len <= 19) || (wantPhone && len <= 15 && i > 0 && s.charCodeAt(i - 1) === 43))) {
          i = e;
          continue;
        }
      }
      const count = digitGroups(s, i);
      const groupsEnd = GROUP_END[count - 1] as number;
      // A run glued to letters (an identifier, a hash) is no number.
      if ((count > 1 || groupsEnd - i >= 8) && !isAlnum(at(s, groupsEnd))) {
        const before = out.length;
        scanDigitRun(s, count, wantCard, wantSsn, wantPhone, out);
        if (out.length > before) lastEnd = (out[out.length - 1] as Match).end;
      }
      i = groupsEnd;
      continue;
    }
    if (c === 101) {
      // 'e': only a JWT ("eyJ") starts with it.
      if (wantJwt && s.charCodeAt(i + 1) === 121 && s.charCodeAt(i + 2) === 74) {
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
      i = alnumEnd(s, i + 1, n);
      continue;
    }
    if ((cls & UPPER) !== 0) {
      if (wantIban) {
        const end = ibanAt(s, i);
        if (end > 0) {
          out.push({ detector: 'iban', start: i, end });
          i = lastEnd = end;
          continue;
        }
      }
      // 'A': AWS key ids and Google API keys.
      if (c !== 65 || tokensA === 0) {
        i = alnumEnd(s, i + 1, n);
        continue;
      }
    } else {
      // g, x, s or r: a token only if the next letter is that of a prefix (gh/gi/gl, xo, sk/rk).
      const d = s.charCodeAt(i + 1);
      if (tokens === 0 || !(c === 103 ? d === 104 || d === 105 || d === 108 : c === 120 ? d === 111 : d === 107)) {
        i = alnumEnd(s, i + 1, n);
        continue;
      }
    }
    const token = tokenAt(s, i, tokens);
    if (token !== null && !isWordish(at(s, token[1]))) {
      out.push({ detector: token[0], start: i, end: token[1] });
      i = lastEnd = token[1];
      continue;
    }
    i = alnumEnd(s, i + 1, n);
  }
  return out;
}
