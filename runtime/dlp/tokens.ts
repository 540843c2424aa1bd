/**
 * API keys and tokens by their published formats (AWS key ids, GitHub, GitLab, Slack, Stripe, Google),
 * JWTs (three base64url parts, a JSON header) and PEM private key blocks. Pure; every look-ahead is
 * bounded or consumed on a match (see detectors.ts).
 */
import { at, isAlnum, isUpper, isDigit, isWordish, runEnd } from './chars.ts';
import type { DetectorId } from './detectors.ts';

/** Which token detectors a scan wants, as bits (resolved once per scan, not asked per word). */
export const AWS = 1;
export const GOOGLE = 2;
export const GITHUB = 4;
export const GITLAB = 8;
export const SLACK = 16;
export const STRIPE = 32;

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
export function jwtAt(s: string, i: number): { end: number; read: number } {
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

/** A token starting at word start `i` (its first char a letter) of a detector in `want`: [detector, end] or null. */
export function tokenAt(s: string, i: number, want: number): [DetectorId, number] | null {
  const c = s.charCodeAt(i);
  let end: number;
  switch (c) {
    case 65: // A
      if ((want & AWS) !== 0 && AWS_PREFIXES.has(s.slice(i, i + 4)) && (end = prefixed(s, i + 4, '', isAwsChar, 16, 16)) > 0) return ['aws-access-key', end];
      if ((want & GOOGLE) !== 0 && (end = prefixed(s, i, 'AIza', isWordish, 35, 35)) > 0) return ['google-api-key', end];
      return null;
    case 103: // g
      if ((want & GITHUB) !== 0 && s.charCodeAt(i + 1) === 104 && s.charCodeAt(i + 3) === 95 && 'pousr'.includes(s.charAt(i + 2)) && (end = prefixed(s, i + 4, '', isAlnum, 36, 36)) > 0) return ['github-token', end];
      if ((want & GITHUB) !== 0 && (end = prefixed(s, i, 'github_pat_', (x) => isAlnum(x) || x === 95, 50, Infinity)) > 0) return ['github-token', end];
      if ((want & GITLAB) !== 0 && (end = prefixed(s, i, 'glpat-', isWordish, 20, Infinity)) > 0) return ['gitlab-token', end];
      return null;
    case 120: // x
      if ((want & SLACK) !== 0 && s.startsWith('xox', i) && 'abpors'.includes(s.charAt(i + 3)) && s.charCodeAt(i + 4) === 45 && (end = prefixed(s, i + 5, '', (x) => isAlnum(x) || x === 45, 10, Infinity)) > 0) return ['slack-token', end];
      return null;
    case 115: // s
    case 114: // r
      if ((want & STRIPE) !== 0 && s.startsWith('k_live_', i + 1) && (end = prefixed(s, i + 8, '', isAlnum, 24, Infinity)) > 0) return ['stripe-key', end];
      return null;
    default:
      return null;
  }
}

// ---- PEM ---------------------------------------------------------------------------------------------

export const PEM_BEGIN = '-----BEGIN ';

/** A private key block from `i` ("-----BEGIN … PRIVATE KEY-----" … "-----END … PRIVATE KEY-----"): its end, or -1. */
export function pemAt(s: string, i: number, noEnd: { value: boolean }): number {
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
