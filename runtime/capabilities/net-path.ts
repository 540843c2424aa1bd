/**
 * The path and method part of network rules: parsing, URL path normalisation and the pure comparisons
 * (no I/O). runtime/capabilities/net.ts combines them with the host, scheme and port of a rule.
 *
 * Threat: a rule such as `GET https://api.github.com/repos/acme/` must not be escaped by a path that the
 * check reads one way and the server another. Both sides are compared after one normalisation:
 *   - the WHATWG URL parser (the same that serializes the request) resolves dot segments, including their
 *     encoded forms (`%2e%2e`, `.%2E`), and turns `\` into `/`;
 *   - percent-escapes of unreserved characters (A-Z a-z 0-9 - . _ ~) are decoded, other escapes get
 *     upper-case hex (RFC 3986 §6.2.2);
 *   - runs of slashes collapse to one;
 * and then compared by whole segments (`/repos/acme` covers `/repos/acme/x`, never `/repos/acmex`), case
 * sensitive. A path that a server could still read as climbing out — an encoded slash or backslash
 * (`%2F`, `%5C`), a dot segment left after decoding, a `..;` segment (Tomcat's path parameters) — is
 * refused by every path rule rather than guessed at.
 */

/** Methods a rule may name. A custom method never matches a rule that names methods. */
export const RULE_METHODS: ReadonlySet<string> = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** A request path as the checks compare it. */
export interface NormalizedPath {
  /** Starts with "/"; no empty segments except a trailing one; unreserved escapes decoded. */
  readonly path: string;
  /** Why no path rule may match it (an encoded slash, a dot segment), or null. */
  readonly problem: string | null;
}

function decodeUnreserved(segment: string): string {
  return segment.replace(/%([0-9A-Fa-f]{2})/g, (whole: string, hex: string) => {
    const ch = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

/** Whether a segment (its part before any `;` parameters) is a dot segment once decoded. */
function isDotSegment(segment: string): boolean {
  const bare = segment.split(';', 1)[0] ?? '';
  return bare === '.' || bare === '..';
}

/**
 * Normalises a URL pathname (as serialized by WHATWG URL: dot segments already resolved, `\` already `/`).
 * Pure; never throws.
 */
export function normalizePath(pathname: string): NormalizedPath {
  const raw = pathname.startsWith('/') ? pathname : `/${pathname}`;
  let problem: string | null = null;
  const parts = raw.split('/').slice(1);
  const out: string[] = [];
  parts.forEach((seg, i) => {
    if (/%(?:2f|5c)/i.test(seg)) problem ??= 'an encoded slash or backslash in the path';
    const decoded = decodeUnreserved(seg);
    if (isDotSegment(decoded)) problem ??= 'a dot segment in the path';
    // Empty segments collapse ("//"), except a trailing one, which keeps "/dir/" distinct from "/dir".
    if (decoded !== '' || i === parts.length - 1) out.push(decoded);
  });
  return { path: `/${out.join('/')}`, problem };
}

/**
 * Parses the path part of a rule ("/repos/acme/"): an absolute path with no query, fragment, whitespace,
 * backslash, encoded slash or dot segment. Stored without its trailing slash; "/" alone is no restriction
 * and returns null. @returns the stored prefix, or a reason the path is invalid
 */
export function parseRulePath(text: string): { prefix: string | null } | { invalid: string } {
  if (!text.startsWith('/')) return { invalid: 'a rule path starts with /' };
  if (/[\s?#\\]/.test(text)) return { invalid: 'a rule path has no query, fragment, whitespace or backslash' };
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(text)) return { invalid: 'a rule path has no control characters' };
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) return { invalid: 'a bad percent-escape in the rule path' };
  for (const seg of text.split('/')) {
    if (/%(?:2f|5c)/i.test(seg)) return { invalid: 'an encoded slash or backslash in the rule path' };
    if (isDotSegment(decodeUnreserved(seg))) return { invalid: 'a dot segment in the rule path' };
  }
  // The same serializer as requests: non-ASCII characters become UTF-8 escapes.
  let pathname: string;
  try {
    pathname = new URL(`http://rule.invalid${text}`).pathname;
  } catch {
    return { invalid: 'bad rule path' };
  }
  const { path } = normalizePath(pathname);
  const prefix = path.endsWith('/') ? path.slice(0, -1) : path;
  return { prefix: prefix === '' ? null : prefix };
}

/** Parses "GET,HEAD": upper-cased, deduplicated, sorted. @returns the methods, or a reason */
export function parseRuleMethods(text: string): { methods: readonly string[] } | { invalid: string } {
  const names = text.split(',').map((m) => m.trim().toUpperCase());
  if (names.some((m) => !RULE_METHODS.has(m))) return { invalid: `methods are a comma-separated list of ${[...RULE_METHODS].join(', ')}` };
  return { methods: [...new Set(names)].sort() };
}

/** Segment-wise prefix: "/repos/acme" covers "/repos/acme", "/repos/acme/" and "/repos/acme/x", not "/repos/acmex". */
export function pathWithin(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** The narrower of two prefixes when one lies within the other; undefined = no restriction; null = disjoint. */
export function intersectPrefixes(a: string | undefined, b: string | undefined): string | undefined | null {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (pathWithin(a, b)) return a;
  if (pathWithin(b, a)) return b;
  return null;
}

/** The methods both lists allow; undefined = all; null = none in common. */
export function intersectMethods(a: readonly string[] | undefined, b: readonly string[] | undefined): readonly string[] | undefined | null {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const both = a.filter((m) => b.includes(m));
  return both.length === 0 ? null : both;
}
