/**
 * Secrets that tool code never sees: plain data and pure checks (no I/O). A package declares named
 * secrets, each bound to network rules (the net rule grammar) and to one place in a request (a header
 * with a format, a query parameter, or HTTP basic auth). Tool code writes the placeholder
 * `{{secret:NAME}}` where the value goes; the host (runtime/io/fetch.ts) substitutes the value after the
 * grant check and the DLP scan, only toward a bound target, only in the bound place (docs/secrets.md).
 *
 * Threat: a tool that could read a credential could send it anywhere it may fetch, or return it to the
 * model. The value lives in the host process only; the isolate handles the placeholder, and every value
 * the isolate gets back (body, headers, final URL, error messages) has the secret's sent forms redacted.
 */
import { checkNetTarget, parseNetRule } from './net.ts';
import type { NetRule, NetTarget } from './net.ts';

/** Where a secret goes in a request. */
export type SecretPlace =
  /** The header `name`, its value `format` with "{}" replaced by the secret. */
  | { readonly kind: 'header'; readonly name: string; readonly format: string }
  /** The query parameter `name`, whose value is the secret. */
  | { readonly kind: 'query'; readonly name: string }
  /** Authorization: Basic, with `username` and the secret as password, or the secret as "user:password". */
  | { readonly kind: 'basic'; readonly username?: string };

/** A secret a package declares: where it may be sent and how (plain data, no value). */
export interface SecretBinding {
  readonly name: string;
  readonly rules: readonly NetRule[];
  readonly place: SecretPlace;
}

/** A binding with the value the user provided: host-side only (a Grant never crosses into a worker). */
export interface GrantedSecret extends SecretBinding {
  readonly value: string;
}

/** The secrets of a grant: the manifest's bindings ∩ the values the user provided. Empty grants none. */
export interface SecretGrant {
  readonly secrets: readonly GrantedSecret[];
}

/** A secret's name: what the placeholder and `mcp-warden secret set` use. */
export const SECRET_NAME = /^[A-Z][A-Z0-9_]{0,63}$/;
/** The placeholder tool code writes: `{{secret:NAME}}`. */
const PLACEHOLDER = /\{\{secret:([A-Z][A-Z0-9_]{0,63})\}\}/g;
const PLACEHOLDER_START = '{{secret:';
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

/** The placeholder of a secret, as tool code writes it. */
export function secretPlaceholder(name: string): string {
  return `{{secret:${name}}}`;
}

/** The names of the placeholders in `text`, in order (possibly repeated). */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/** Whether `text` holds anything that looks like a placeholder (even a malformed one): never sent as is. */
export function mentionsSecret(text: string): boolean {
  return text.includes(PLACEHOLDER_START);
}

/** The manifest's declaration of one secret, as written (host/manifest.schema.json checked its shape). */
export interface SecretDeclaration {
  readonly hosts: readonly string[];
  readonly header?: { readonly name: string; readonly format?: string };
  readonly query?: string;
  readonly basic?: { readonly username?: string };
  readonly description?: string;
}

/**
 * Parses one declaration into a binding. Hosts use the net rule grammar (paths and methods allowed).
 * @throws Error naming what is wrong (the manifest parser turns it into MANIFEST_INVALID)
 */
export function parseSecretBinding(name: string, decl: SecretDeclaration): SecretBinding {
  if (!SECRET_NAME.test(name)) throw new Error(`secret name ${JSON.stringify(name.slice(0, 80))} must be upper case letters, digits and _ (starting with a letter)`);
  if (decl.hosts.length === 0) throw new Error(`secret ${name} is bound to no host`);
  const rules = decl.hosts.map((h) => parseNetRule(h));
  const places = [decl.header, decl.query, decl.basic].filter((p) => p !== undefined).length;
  if (places !== 1) throw new Error(`secret ${name} must name exactly one place: header, query or basic`);
  let place: SecretPlace;
  if (decl.header !== undefined) {
    const format = decl.header.format ?? '{}';
    if (!HEADER_NAME.test(decl.header.name)) throw new Error(`secret ${name}: invalid header name`);
    if (format.split('{}').length !== 2 || /[\r\n\0]/.test(format) || mentionsSecret(format)) throw new Error(`secret ${name}: the header format must contain "{}" exactly once`);
    place = { kind: 'header', name: decl.header.name.toLowerCase(), format };
  } else if (decl.query !== undefined) {
    place = { kind: 'query', name: decl.query };
  } else {
    const username = decl.basic?.username;
    if (username !== undefined && username.includes(':')) throw new Error(`secret ${name}: a basic-auth username cannot contain ":"`);
    place = username === undefined ? { kind: 'basic' } : { kind: 'basic', username };
  }
  return { name, rules, place };
}

/** A binding in words, for consent screens and `secret list`: "header Authorization: Bearer {} → api.github.com". */
export function describeSecretPlace(place: SecretPlace): string {
  switch (place.kind) {
    case 'header':
      return `header ${place.name}: ${place.format}`;
    case 'query':
      return `query parameter ${place.name}`;
    case 'basic':
      return place.username === undefined ? 'HTTP basic auth (user:password)' : `HTTP basic auth as ${place.username}`;
  }
}

/** Whether `secret` may be sent to `target` with `method`: the same pure check as a net grant. */
export function secretBoundTo(secret: SecretBinding, target: NetTarget, method: string): boolean {
  return checkNetTarget({ rules: secret.rules }, target, method).allowed;
}

/** The header a secret is sent in (basic auth: Authorization). */
export function secretHeaderName(place: SecretPlace): string | null {
  if (place.kind === 'header') return place.name;
  if (place.kind === 'basic') return 'authorization';
  return null;
}

/** The header value that carries `secret`. */
export function secretHeaderValue(secret: GrantedSecret): string {
  const { place, value } = secret;
  if (place.kind === 'header') return place.format.replace('{}', value);
  const creds = place.kind === 'basic' && place.username !== undefined ? `${place.username}:${value}` : value;
  return `Basic ${Buffer.from(creds, 'utf8').toString('base64')}`;
}

/**
 * Every form in which a secret may come back in a response (an echoing server): the value, its header
 * value, its percent-encoded and base64 forms. Longest first, so a form inside another is replaced whole.
 */
export function secretForms(secret: GrantedSecret): string[] {
  const { value } = secret;
  const forms = new Set<string>([value, encodeURIComponent(value), new URLSearchParams({ v: value }).toString().slice(2), Buffer.from(value, 'utf8').toString('base64')]);
  const header = secretHeaderName(secret.place) === null ? null : secretHeaderValue(secret);
  if (header !== null) {
    forms.add(header);
    if (secret.place.kind === 'basic') forms.add(header.slice('Basic '.length));
  }
  // Every form, however short: a value the user chose is never passed through for being short.
  return [...forms].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
}

/** What a redacted secret reads as. */
export function secretMarker(name: string): string {
  return `[secret:${name}]`;
}

/** Replaces every sent form of every secret in `text` with its marker. */
export function redactSecrets(grant: SecretGrant | undefined, text: string): string {
  if (grant === undefined || grant.secrets.length === 0) return text;
  let s = text;
  for (const secret of grant.secrets) for (const form of secretForms(secret)) if (s.includes(form)) s = s.split(form).join(secretMarker(secret.name));
  return s;
}

/** Replaces every sent form of every secret in `bytes` (UTF-8) with its marker. */
export function redactSecretBytes(grant: SecretGrant | undefined, bytes: Uint8Array): Uint8Array {
  if (grant === undefined || grant.secrets.length === 0) return bytes;
  let buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let changed = false;
  for (const secret of grant.secrets) {
    for (const form of secretForms(secret)) {
      const needle = Buffer.from(form, 'utf8');
      if (buf.indexOf(needle) < 0) continue;
      const marker = Buffer.from(secretMarker(secret.name), 'utf8');
      const parts: Buffer[] = [];
      let from = 0;
      for (let at = buf.indexOf(needle); at >= 0; at = buf.indexOf(needle, from)) {
        parts.push(buf.subarray(from, at), marker);
        from = at + needle.length;
      }
      parts.push(buf.subarray(from));
      buf = Buffer.concat(parts);
      changed = true;
    }
  }
  return changed ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : bytes;
}

/** Whether `text` carries any sent form of a secret (a redirect's Location echoing one). */
export function carriesSecret(secret: GrantedSecret, text: string): boolean {
  return secretForms(secret).some((f) => text.includes(f));
}
