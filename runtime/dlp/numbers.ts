/**
 * Numbers in text: payment cards (Luhn, issuer prefix and length), US SSNs (never-issued ranges
 * excluded) and phone numbers, found in runs of digit groups. Pure; each run is read once, and each
 * start group extends over at most 19 digits, so a scan stays linear.
 */
import { at, isDigit, runEnd } from './chars.ts';
import type { DetectorId, Match } from './detectors.ts';

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

export interface Group {
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
export function digitGroups(s: string, i: number): Group[] {
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
export function scanDigitRun(s: string, groups: readonly Group[], want: (d: DetectorId) => boolean, out: Match[]): void {
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
