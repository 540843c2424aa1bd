/**
 * Numbers in text: payment cards (Luhn, issuer prefix and length), US SSNs (never-issued ranges
 * excluded) and phone numbers, found in runs of digit groups. Pure; each run is read once, and each
 * start group extends over at most 19 digits, so a scan stays linear.
 */
import { at } from './chars.ts';
import type { Match } from './detectors.ts';

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

const MAX_GROUPS = 24;

// The groups of the run `digitGroups` read last: start, end and the separator before each (' ' or '-',
// 0 for the first). Typed arrays reused by every scan rather than an object per group: the scan's hot
// path allocates nothing (a scan is synchronous and never re-entered, so one set is enough).
export const GROUP_START = new Int32Array(MAX_GROUPS);
export const GROUP_END = new Int32Array(MAX_GROUPS);
const GROUP_SEP = new Int32Array(MAX_GROUPS);

/**
 * Digit groups from `i` joined by single spaces or dashes (at most MAX_GROUPS; a longer run is cut and
 * the rest scanned afresh), each of at most 64 digits, into GROUP_START/GROUP_END. Returns how many.
 */
export function digitGroups(s: string, i: number): number {
  const n = s.length;
  let count = 0;
  let j = i;
  let sep = 0;
  while (count < MAX_GROUPS) {
    let end = j;
    const cap = j + 64;
    while (end < n && end < cap) {
      const c = s.charCodeAt(end);
      if (c < 48 || c > 57) break;
      end++;
    }
    GROUP_START[count] = j;
    GROUP_END[count] = end;
    GROUP_SEP[count] = sep;
    count++;
    if (end + 1 >= n) break;
    const c = s.charCodeAt(end);
    if (c === 32 || c === 45) {
      const d = s.charCodeAt(end + 1);
      if (d >= 48 && d <= 57) {
        sep = c;
        j = end + 1;
        continue;
      }
    }
    break;
  }
  return count;
}

const len = (g: number): number => (GROUP_END[g] as number) - (GROUP_START[g] as number);
const slice = (s: string, g: number): string => s.slice(GROUP_START[g], GROUP_END[g]);

/** The digits of groups g..h. */
function digitsOf(s: string, g: number, h: number): string {
  let d = '';
  for (let k = g; k <= h; k++) d += slice(s, k);
  return d;
}

/** Matches inside the run of `count` digit groups `digitGroups` read last, in order, not overlapping. */
export function scanDigitRun(s: string, count: number, card: boolean, ssn: boolean, phone: boolean, out: Match[]): void {
  let total = 0;
  for (let g = 0; g < count; g++) total += len(g);
  // The shortest match is a phone number of 8 digits.
  if (total < 8) return;
  const runStart = GROUP_START[0] as number;
  if (phone && at(s, runStart - 1) === 43 && total <= 15) {
    // '+'
    out.push({ detector: 'phone', start: runStart - 1, end: GROUP_END[count - 1] as number });
    return;
  }
  if (count === 3 && GROUP_SEP[1] === GROUP_SEP[2] && len(0) === 3) {
    // SSN: exactly ddd-dd-dddd (or spaces), the whole run.
    if (ssn && len(1) === 2 && len(2) === 4 && isSsn(slice(s, 0), slice(s, 1), slice(s, 2))) {
      out.push({ detector: 'ssn', start: runStart, end: GROUP_END[2] as number });
      return;
    }
    // Phone (NANP): ddd-ddd-dddd, the whole run.
    if (phone && len(1) === 3 && len(2) === 4 && s.charCodeAt(runStart) !== 48 && s.charCodeAt(runStart) !== 49) {
      out.push({ detector: 'phone', start: runStart, end: GROUP_END[2] as number });
      return;
    }
  }
  if (!card || total < 13) return;
  // Card: groups g..h with one separator kind, 13–19 digits in all. At most 19 groups are tried from g.
  let g = 0;
  while (g < count) {
    let digits = 0;
    let found = -1;
    for (let h = g; h < count; h++) {
      if (h > g && GROUP_SEP[h] !== GROUP_SEP[g + 1]) break;
      digits += len(h);
      if (digits > 19) break;
      if (digits >= 13 && isCardNumber(digitsOf(s, g, h))) found = h;
    }
    if (found >= 0) {
      out.push({ detector: 'card', start: GROUP_START[g] as number, end: GROUP_END[found] as number });
      g = found + 1;
      continue;
    }
    g++;
  }
}
