/** ASCII character classes and bounded run readers shared by the DLP scanners. Pure. */

// Character classes of ASCII, one table lookup per character (the scan's hot loop). The table covers
// every UTF-16 code unit (0 above ASCII), so the hot loop indexes it without a range check first.
export const DIGIT = 1;
export const UPPER = 2;
export const LOWER = 4;
export const ALNUM = DIGIT | UPPER | LOWER;
export const CLASS = new Uint8Array(65536);
for (let c = 48; c <= 57; c++) CLASS[c] = DIGIT;
for (let c = 65; c <= 90; c++) CLASS[c] = UPPER;
for (let c = 97; c <= 122; c++) CLASS[c] = LOWER;
// A word may start a match only with a digit, an upper-case letter, or the first letter of a token prefix
// (eyJ, ghp_/github_pat_/glpat-, xox…, sk_live_/rk_live_): other words are skipped whole.
export const START = 8;
for (const ch of 'egxsr') CLASS[ch.charCodeAt(0)] = LOWER | START;
for (let c = 48; c <= 90; c++) if (CLASS[c] !== 0) CLASS[c] = (CLASS[c] as number) | START;
export const classOf = (c: number): number => (c >= 0 && c < 128 ? (CLASS[c] as number) : 0);
export const isDigit = (c: number): boolean => (classOf(c) & DIGIT) !== 0;
export const isUpper = (c: number): boolean => (classOf(c) & UPPER) !== 0;
export const isLower = (c: number): boolean => (classOf(c) & LOWER) !== 0;
export const isAlnum = (c: number): boolean => (classOf(c) & ALNUM) !== 0;
/** base64url and the token alphabets: [A-Za-z0-9_-] */
export const isWordish = (c: number): boolean => isAlnum(c) || c === 95 || c === 45;
export const at = (s: string, i: number): number => (i >= 0 && i < s.length ? s.charCodeAt(i) : -1);

/** The end of the run of ASCII letters and digits from `i` (`n` is `s.length`). */
export function alnumEnd(s: string, i: number, n: number): number {
  let j = i;
  while (j < n && (CLASS[s.charCodeAt(j)] as number) !== 0) j++;
  return j;
}

/** The end of the run of `pred` characters from `i`, reading at most `max` of them. */
export function runEnd(s: string, i: number, pred: (c: number) => boolean, max = Infinity): number {
  let j = i;
  while (j < s.length && j - i < max && pred(s.charCodeAt(j))) j++;
  return j;
}
