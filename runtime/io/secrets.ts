/**
 * Secret injection for runtime/io/fetch.ts (docs/secrets.md). The tool's request names secrets by
 * placeholder; `planSecrets` finds them and refuses any that is not granted or not in its bound place,
 * `secretsForHop` decides per hop (the first request and each redirect) which are sent, and
 * `applySecrets` writes the values into the request that leaves — after the grant check and the DLP scan,
 * so neither ever sees a value, and only ever in the host process.
 *
 * Threat: a tool sending a secret to a host of its choosing (SECRET_NOT_BOUND, not a silent drop), a
 * redirect carrying it elsewhere (dropped at the hop), a placeholder in a body or path that a server
 * would echo back resolved (refused: values go only into headers and query parameters).
 */
import { SandboxError } from '../errors.ts';
import type { NetTarget } from '../capabilities/net.ts';
import { carriesSecret, mentionsSecret, placeholdersIn, secretBoundTo, secretHeaderName, secretHeaderValue, secretPlaceholder } from '../capabilities/secrets.ts';
import type { GrantedSecret, SecretGrant } from '../capabilities/secrets.ts';

/** A secret the tool's request uses, and where. */
export interface SecretUse {
  readonly secret: GrantedSecret;
  /** The lowercased header, or null for a query parameter. */
  readonly header: string | null;
}

function notBound(message: string): SandboxError {
  return new SandboxError('SECRET_NOT_BOUND', message);
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** A URL as written and as a server may decode it (percent-decoding, with and without "+" as a space). */
function spellings(url: string): string[] {
  let plain = url;
  try {
    plain = decodeURIComponent(url);
  } catch {
    // Not decodable as a whole: the other spellings still count.
  }
  return [url, plain, decoded(url)];
}

function granted(grant: SecretGrant | undefined, name: string): GrantedSecret {
  const secret = grant?.secrets.find((s) => s.name === name);
  if (secret === undefined) throw notBound(`secret ${name} is not granted to this package (not declared in its manifest, or no value was provided: mcp-warden secret set ${name})`);
  return secret;
}

/**
 * Whether a header value uses `secret` as the host substitutes it: its placeholder as the whole value, or
 * (for a header secret) exactly its bound format with the placeholder in place of `{}` — what code that
 * writes its own `Bearer ${token}` sends when its token is the placeholder (a wrapped server's
 * environment, docs/wrapping.md). Either way the header sent is the bound format with the value.
 */
function isHeaderUse(secret: GrantedSecret, value: string): boolean {
  const placeholder = secretPlaceholder(secret.name);
  return value === placeholder || (secret.place.kind === 'header' && value === secret.place.format.replace('{}', placeholder));
}

/**
 * The secrets the request uses. A placeholder must be a header's whole value (the header the secret is
 * bound to; Authorization for basic auth) or a query parameter's whole value (the bound parameter).
 * @throws SandboxError SECRET_NOT_BOUND for any other placeholder, or an ungranted secret
 */
export function planSecrets(grant: SecretGrant | undefined, url: string, headers: readonly (readonly [string, string])[], body: Uint8Array | null): SecretUse[] {
  const uses: SecretUse[] = [];
  if (body !== null && Buffer.from(body.buffer, body.byteOffset, body.byteLength).includes('{{secret:')) throw notBound('a secret placeholder in a request body is not substituted; secrets go only in their bound header or query parameter');
  for (const [name, value] of headers) {
    if (!mentionsSecret(value)) continue;
    const names = placeholdersIn(value);
    const candidate = names.length === 1 ? granted(grant, names[0] as string) : null;
    const secret = candidate !== null && isHeaderUse(candidate, value) ? candidate : null;
    if (secret === null || secretHeaderName(secret.place) !== name.toLowerCase()) throw notBound(`header ${name.slice(0, 64)}: a secret is not bound to this header (write its placeholder as the whole value of its bound header, or the bound format with the placeholder in it)`);
    uses.push({ secret, header: name.toLowerCase() });
  }
  const q = url.indexOf('?');
  const beforeQuery = url.slice(0, q < 0 ? url.length : q);
  if (mentionsSecret(decoded(beforeQuery))) throw notBound('a secret placeholder in the URL outside a query parameter is not substituted');
  if (q >= 0) {
    for (const pair of url.slice(q + 1).split('#')[0]?.split('&') ?? []) {
      const eq = pair.indexOf('=');
      const key = decoded(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? '' : decoded(pair.slice(eq + 1));
      if (!mentionsSecret(key) && !mentionsSecret(value)) continue;
      const names = placeholdersIn(value);
      const secret = !mentionsSecret(key) && names.length === 1 && value === secretPlaceholder(names[0] as string) ? granted(grant, names[0] as string) : null;
      if (secret === null || secret.place.kind !== 'query' || secret.place.name !== key) throw notBound(`query parameter ${key.slice(0, 64)}: a secret is not bound to this parameter`);
      uses.push({ secret, header: null });
    }
  }
  return uses;
}

/**
 * The uses sent on this hop. The first request: every use must be bound to the target, or the fetch is
 * refused (SECRET_NOT_BOUND). A redirect: a header use toward a target it is not bound to is dropped
 * (the Location's own query is the server's, so query uses end at the first hop); a redirect URL that
 * carries a secret's value toward a target the secret is not bound to is refused.
 */
export function secretsForHop(grant: SecretGrant | undefined, uses: readonly SecretUse[], target: NetTarget, method: string, redirect: boolean): readonly SecretUse[] {
  if (redirect) {
    for (const s of grant?.secrets ?? []) {
      if (!secretBoundTo(s, target, method) && spellings(target.href).some((u) => carriesSecret(s, u))) throw notBound(`a redirect would carry secret ${s.name} to ${target.scheme}://${target.host}:${target.port}, where it is not bound`);
    }
    return uses.filter((u) => u.header !== null && secretBoundTo(u.secret, target, method));
  }
  for (const u of uses) {
    if (!secretBoundTo(u.secret, target, method)) throw notBound(`secret ${u.secret.name} is not bound to ${target.scheme}://${target.host}:${target.port} (or to this path or method)`);
  }
  return uses;
}

/** Headers with a placeholder: the value for the uses of this hop, dropped otherwise. */
export function applySecretHeaders(headers: readonly [string, string][], hopUses: readonly SecretUse[]): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of headers) {
    if (!mentionsSecret(value)) {
      out.push([name, value]);
      continue;
    }
    const use = hopUses.find((u) => u.header === name && isHeaderUse(u.secret, value));
    if (use === undefined) continue;
    const sent = secretHeaderValue(use.secret);
    // A value with CR/LF would let the stored secret write its own headers: never sent.
    if (/[\r\n\0]/.test(sent)) throw new SandboxError('SECRET_NOT_BOUND', `secret ${use.secret.name} cannot be sent in a header (it contains a line break)`);
    out.push([name, sent]);
  }
  return out;
}

/** The request path and query with each query use's placeholder replaced by its value. */
export function applySecretQuery(pathAndQuery: string, hopUses: readonly SecretUse[]): string {
  const queryUses = hopUses.filter((u) => u.header === null);
  const q = pathAndQuery.indexOf('?');
  if (queryUses.length === 0 || q < 0) return pathAndQuery;
  const pairs = pathAndQuery
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const key = decoded(pair.slice(0, eq));
      const value = decoded(pair.slice(eq + 1));
      const use = queryUses.find((u) => u.secret.place.kind === 'query' && u.secret.place.name === key && value === secretPlaceholder(u.secret.name));
      return use === undefined ? pair : `${pair.slice(0, eq)}=${encodeURIComponent(use.secret.value)}`;
    });
  return `${pathAndQuery.slice(0, q)}?${pairs.join('&')}`;
}
