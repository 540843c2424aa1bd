/**
 * RFC 6570 URI templates (levels 1–4) as a package declares them for its resource templates: parsed once
 * at load, matched against the URIs clients read.
 *
 * Threat: both the template (a package's manifest) and the URI (a client's request) are untrusted. The
 * SDK's UriTemplate accepts templates of a million characters with ten thousand expressions and matches
 * them with a backtracking RegExp (`(.+)` next to `(.+)` is polynomial in the URI), so it is not used
 * here: templates are bounded (length, expressions, variables, names) and refused when malformed, and a
 * URI is matched by RE2 (re2js), linear in its length whatever the template.
 */
import { RE2JS } from 're2js';

export const MAX_TEMPLATE_LENGTH = 1024;
export const MAX_TEMPLATE_EXPRESSIONS = 16;
export const MAX_TEMPLATE_VARIABLES = 16;
/** Longer URIs never match a template (and are never served). */
export const MAX_URI_LENGTH = 8192;

export type TemplateValues = Readonly<Record<string, string | readonly string[]>>;

export interface UriTemplate {
  readonly text: string;
  /** The variable names, in template order, each once. */
  readonly variables: readonly string[];
  /** The variables of `uri` when it matches the whole template, else null. */
  match(uri: string): TemplateValues | null;
}

type Operator = '' | '+' | '#' | '.' | '/' | ';' | '?' | '&';

interface VarSpec {
  readonly name: string;
  readonly explode: boolean;
  readonly prefix?: number;
}

interface Expression {
  readonly op: Operator;
  readonly vars: readonly VarSpec[];
}

const OPERATORS = new Set(['+', '#', '.', '/', ';', '?', '&']);
const RESERVED_OPERATORS = new Set(['=', ',', '!', '@', '|']);
const VARNAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,62}[A-Za-z0-9_])?$/;
// Literal characters RFC 6570 allows (no controls, spaces, quotes, angle brackets, braces, backslash, caret, backtick, pipe).
// eslint-disable-next-line no-control-regex -- control characters are refused on purpose
const BAD_LITERAL = /[\u0000-\u0020"'<>\\^`{|}\u007f]/;

function escapeRe2(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

function parseVarSpec(spec: string): VarSpec {
  let name = spec;
  let explode = false;
  let prefix: number | undefined;
  if (name.endsWith('*')) {
    explode = true;
    name = name.slice(0, -1);
  } else {
    const colon = name.indexOf(':');
    if (colon >= 0) {
      const digits = name.slice(colon + 1);
      if (!/^[1-9]\d{0,3}$/.test(digits)) throw new Error(`the prefix length of "${spec.slice(0, 80)}" must be 1–9999`);
      prefix = Number(digits);
      name = name.slice(0, colon);
    }
  }
  if (!VARNAME.test(name)) throw new Error(`"${spec.slice(0, 80)}" is not a valid variable name`);
  return prefix === undefined ? { name, explode } : { name, explode, prefix };
}

function parseParts(text: string): (string | Expression)[] {
  const parts: (string | Expression)[] = [];
  let i = 0;
  let expressions = 0;
  while (i < text.length) {
    const open = text.indexOf('{', i);
    const close = text.indexOf('}', i);
    if (close >= 0 && (open < 0 || close < open)) throw new Error('has a "}" without "{"');
    const literal = open < 0 ? text.slice(i) : text.slice(i, open);
    if (literal !== '') {
      if (BAD_LITERAL.test(literal)) throw new Error('has a character a URI template may not contain outside an expression');
      parts.push(literal);
    }
    if (open < 0) break;
    const end = text.indexOf('}', open);
    if (end < 0) throw new Error('has an unclosed "{"');
    if (++expressions > MAX_TEMPLATE_EXPRESSIONS) throw new Error(`has more than ${MAX_TEMPLATE_EXPRESSIONS} expressions`);
    let body = text.slice(open + 1, end);
    if (body.includes('{')) throw new Error('has a "{" inside an expression');
    let op: Operator = '';
    const first = body.charAt(0);
    if (RESERVED_OPERATORS.has(first)) throw new Error(`uses the reserved operator "${first}"`);
    if (OPERATORS.has(first)) {
      op = first as Operator;
      body = body.slice(1);
    }
    if (body === '') throw new Error('has an empty expression');
    parts.push({ op, vars: body.split(',').map(parseVarSpec) });
    i = end + 1;
  }
  return parts;
}

/** The RE2 pattern of one expression, and how each of its groups maps to variables. */
function expressionPattern(e: Expression, queryOpen: boolean): { pattern: string; groups: { spec: VarSpec; op: Operator; sep: string }[] | 'query' } {
  if (e.op === '?' || e.op === '&') {
    // Query parameters: the whole query is captured and split, so their order and absence do not matter.
    if (queryOpen) return { pattern: '', groups: [] };
    return { pattern: `(?:${e.op === '?' ? '\\?' : '&'}([^#]*))?`, groups: 'query' };
  }
  const groups: { spec: VarSpec; op: Operator; sep: string }[] = [];
  const pieces: string[] = [];
  for (const spec of e.vars) {
    switch (e.op) {
      case '':
        pieces.push(spec.explode ? '([^/?#]*)' : '([^/?#,]*)');
        groups.push({ spec, op: e.op, sep: ',' });
        break;
      case '+':
      case '#':
        pieces.push(e.vars.length > 1 && !spec.explode ? '([^,]*)' : '(.*)');
        groups.push({ spec, op: e.op, sep: ',' });
        break;
      case '.':
        pieces.push(spec.explode ? '\\.([^/?#]*)' : '\\.([^/?#.]*)');
        groups.push({ spec, op: e.op, sep: '.' });
        break;
      case '/':
        pieces.push(spec.explode ? '/([^?#]*)' : '/([^/?#]*)');
        groups.push({ spec, op: e.op, sep: '/' });
        break;
      case ';':
        pieces.push(`;${escapeRe2(spec.name)}(?:=([^;/?#]*))?`);
        groups.push({ spec, op: e.op, sep: ',' });
        break;
    }
  }
  const joiner = e.op === '' || e.op === '+' || e.op === '#' ? ',' : '';
  const body = pieces.join(joiner);
  return { pattern: e.op === '#' ? `#${body}` : body, groups };
}

function decode(value: string, op: Operator): string | null {
  if (op === '+' || op === '#') return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

/**
 * Parses a URI template.
 * @throws Error with a message saying what is wrong (the manifest parser names the field).
 */
export function parseUriTemplate(text: string): UriTemplate {
  if (text.length === 0 || text.length > MAX_TEMPLATE_LENGTH) throw new Error(`must be 1–${MAX_TEMPLATE_LENGTH} characters`);
  const parts = parseParts(text);
  const variables: string[] = [];
  const queryNames = new Map<string, VarSpec>();
  const groupMap: ({ spec: VarSpec; op: Operator; sep: string } | 'query')[] = [];
  let pattern = '';
  let queryOpen = false;
  for (const part of parts) {
    if (typeof part === 'string') {
      if (queryOpen) throw new Error('has literal text after a query expression ({?…} or {&…})');
      pattern += escapeRe2(part);
      continue;
    }
    for (const v of part.vars) {
      if (variables.includes(v.name)) throw new Error(`uses the variable "${v.name}" twice`);
      variables.push(v.name);
    }
    if (variables.length > MAX_TEMPLATE_VARIABLES) throw new Error(`has more than ${MAX_TEMPLATE_VARIABLES} variables`);
    if (queryOpen && part.op !== '?' && part.op !== '&') throw new Error('has an expression after a query expression ({?…} or {&…})');
    const { pattern: p, groups } = expressionPattern(part, queryOpen);
    if (part.op === '?' || part.op === '&') {
      for (const v of part.vars) queryNames.set(v.name, v);
      queryOpen = true;
    }
    pattern += p;
    if (groups === 'query') groupMap.push('query');
    else groupMap.push(...groups);
  }
  const re = RE2JS.compile(`^${pattern}$`, RE2JS.DOTALL);

  const match = (uri: string): TemplateValues | null => {
    if (typeof uri !== 'string' || uri.length > MAX_URI_LENGTH) return null;
    const m = re.matcher(uri);
    if (!m.matches()) return null;
    // No prototype: a variable may be named "__proto__".
    const out = Object.create(null) as Record<string, string | string[]>;
    for (let g = 0; g < groupMap.length; g++) {
      const raw = m.group(g + 1);
      const slot = groupMap[g] as (typeof groupMap)[number];
      if (slot === 'query') {
        if (raw === null || raw === '') continue;
        for (const pair of raw.split('&')) {
          const eq = pair.indexOf('=');
          const key = decode(eq < 0 ? pair : pair.slice(0, eq), '');
          const spec = key === null ? undefined : queryNames.get(key);
          if (spec === undefined) continue;
          const value = decode(eq < 0 ? '' : pair.slice(eq + 1), '');
          if (value === null) return null;
          const prev = out[spec.name];
          if (prev === undefined) out[spec.name] = spec.explode ? [value] : value;
          else if (Array.isArray(prev)) prev.push(value);
          else return null; // a non-exploded parameter given twice is ambiguous
        }
        continue;
      }
      if (raw === null) continue;
      const { spec, op, sep } = slot;
      if (spec.explode) {
        const values: string[] = [];
        for (const piece of raw.split(sep)) {
          const v = decode(piece, op);
          if (v === null) return null;
          values.push(v);
        }
        out[spec.name] = values;
      } else {
        const v = decode(raw, op);
        if (v === null) return null;
        if (spec.prefix !== undefined && [...v].length > spec.prefix) return null;
        out[spec.name] = v;
      }
    }
    return out;
  };
  return { text, variables, match };
}
