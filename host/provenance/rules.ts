/**
 * The rules a user writes to trust a package by its provenance (`trust add-provenance`): a repository
 * (exact), an optional workflow file and git ref (exact, or a glob where the user wrote "*"), an OIDC
 * issuer (exact). Parsed once into normalised text; matched by pure functions.
 *
 * Threat: a rule must not match more than the user read. No regular expression is ever built from user
 * input; a "*" matches within one path segment only (never a "/"), so "refs/tags/*" does not match
 * "refs/tags/v1/../../heads/evil" nor "refs/heads/main", and a repository is never a pattern, so
 * "github.com/acme/tool" cannot match "github.com/acme/tool-evil" or "github.com/acme-evil/tool".
 */
import { HostError } from '../errors.ts';

const MAX_RULE = 512;
// Printable ASCII without spaces: every rule is a host/path, a file path or a git ref.
const PRINTABLE = /^[\x21-\x7e]+$/u;

function usage(message: string): HostError {
  return new HostError('USAGE', message);
}

function checkText(what: string, text: string): void {
  if (text.length === 0 || text.length > MAX_RULE || !PRINTABLE.test(text)) throw usage(`${what} must be 1 to ${MAX_RULE} printable characters without spaces`);
}

function checkSegments(what: string, path: string): void {
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..')) throw usage(`${what} ${JSON.stringify(path.slice(0, 100))} has an empty, "." or ".." segment`);
}

/**
 * "github.com/acme/weather-tool" (or with "https://") → "github.com/acme/weather-tool": host in lower
 * case, no scheme, no trailing "/" or ".git". Never a pattern. @throws HostError USAGE
 */
export function parseRepositoryRule(text: string): string {
  checkText('--repo', text);
  let rest = text.replace(/^https:\/\//u, '');
  if (/^[a-z][a-z0-9+.-]*:/iu.test(rest)) throw usage('--repo must be HOST/OWNER/REPO, e.g. github.com/acme/weather-tool (https only)');
  rest = rest.replace(/\/+$/u, '').replace(/\.git$/u, '');
  if (rest.includes('*')) throw usage('--repo is compared exactly: it cannot hold "*"');
  if (/[?#@\\]/u.test(rest)) throw usage('--repo must be HOST/OWNER/REPO, without query, fragment, user or backslash');
  const slash = rest.indexOf('/');
  if (slash <= 0) throw usage('--repo must be HOST/OWNER/REPO, e.g. github.com/acme/weather-tool');
  const host = rest.slice(0, slash).toLowerCase();
  const path = rest.slice(slash + 1);
  if (!/^[a-z0-9.-]+$/u.test(host) || !host.includes('.')) throw usage(`--repo: ${JSON.stringify(host.slice(0, 100))} is not a host name`);
  checkSegments('--repo', path);
  return `${host}/${path}`;
}

/** A workflow file rule: a relative path inside the repository, "*" allowed within segments. @throws HostError USAGE */
export function parseWorkflowRule(text: string): string {
  checkText('--workflow', text);
  const path = text.replace(/^\.\//u, '');
  if (path.startsWith('/')) throw usage('--workflow is a path inside the repository, e.g. .github/workflows/release.yml');
  if (path.includes('@')) throw usage('--workflow is the file only; give the git ref with --ref');
  checkSegments('--workflow', path);
  return path;
}

/** A git ref rule: "refs/…", "*" allowed within segments ("refs/tags/*"). @throws HostError USAGE */
export function parseRefRule(text: string): string {
  checkText('--ref', text);
  if (!text.startsWith('refs/')) throw usage('--ref is a full git ref, e.g. refs/tags/* or refs/heads/main');
  checkSegments('--ref', text);
  return text;
}

/** An OIDC issuer: an https URL, compared exactly. @throws HostError USAGE */
export function parseIssuerRule(text: string): string {
  checkText('--issuer', text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usage('--issuer must be an https URL');
  }
  if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash) throw usage('--issuer must be a plain https URL');
  return text;
}

/** Whether one segment matches a segment pattern in which "*" stands for any run of characters. */
function segmentMatches(pattern: string, value: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === value;
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  // Leftmost placement of each middle part is optimal for "*"-only patterns.
  let at = first.length;
  const end = value.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = value.indexOf(part, at);
    if (found === -1 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

/**
 * Whether a value (a workflow path or a git ref from a certificate) matches a rule: segment by segment,
 * the same number of segments, "*" never crossing a "/". A rule without "*" is an exact comparison.
 */
export function globMatches(rule: string, value: string): boolean {
  if (!rule.includes('*')) return rule === value;
  const ruleSegments = rule.split('/');
  const valueSegments = value.split('/');
  return ruleSegments.length === valueSegments.length && ruleSegments.every((r, i) => segmentMatches(r, valueSegments[i] as string));
}
