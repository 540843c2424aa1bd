/**
 * JSON Schema validation for manifests and tool schemas (ajv, JSON Schema 2020-12 as MCP specifies).
 *
 * Threat: tool schemas come from untrusted packages but are compiled and run in the host process. ajv
 * generates code from them, so they are checked first: no remote `$ref` is ever fetched (no loadSchema) and
 * their size is bounded. Their `pattern` and `patternProperties` regular expressions run in RE2 (re2js), a
 * linear-time engine: no pattern (`^(a|a)*$`, `(a+)+`, `(.*a){20}`) can backtrack, so a hostile schema
 * cannot stall the host's event loop on a crafted argument or result. A pattern RE2 cannot run
 * (lookaround, backreferences) is refused when the manifest loads.
 */
import { createRequire } from 'node:module';
import type * as AjvModule from 'ajv/dist/2020.js';
import type { Ajv2020, ErrorObject, KeywordCxt, KeywordDefinition, ValidateFunction } from 'ajv/dist/2020.js';
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import { RE2JS } from 're2js';

// ajv and ajv-formats (CommonJS, ~90 modules) are required on first use: a serve's start-up runs the
// precompiled validators (host/home/precompiled.ts) and compiles tool schemas only after tools/list.
const require = createRequire(import.meta.url);
interface AjvModules {
  Ajv: typeof Ajv2020;
  addFormats: (ajv: Ajv2020) => Ajv2020;
  _: typeof AjvModule._;
  str: typeof AjvModule.str;
}
type CodePointCount = (s: string) => number;
let ajvModules: AjvModules | undefined;
function ajvLibrary(): AjvModules {
  if (ajvModules === undefined) {
    const formats = require('ajv-formats') as { default?: unknown };
    const ajv = require('ajv/dist/2020.js') as typeof AjvModule;
    ajvModules = {
      Ajv: ajv.Ajv2020,
      addFormats: (formats.default ?? formats) as (ajv: Ajv2020) => Ajv2020,
      _: ajv._,
      str: ajv.str,
    };
  }
  return ajvModules;
}

/**
 * maxLength and minLength as ajv defines them (the same length in code points, the same errors), with the
 * code points counted only when the UTF-16 length leaves the answer open: a string has at most `length`
 * and at least `length / 2` code points, so a 100 KB argument under a 1 MB maxLength is not walked
 * character by character in JavaScript (ajv's `ucs2length`, ~200 µs per 100 KB).
 */
function lengthKeywords({ _, str }: AjvModules): KeywordDefinition {
  return {
    keyword: ['maxLength', 'minLength'],
    type: 'string',
    schemaType: 'number',
    $data: true,
    // Where ajv evaluates them (before pattern and format): a string failing two keywords reports the same one.
    before: 'pattern',
    error: {
      message: ({ keyword, schemaCode }) => str`must NOT have ${keyword === 'maxLength' ? 'more' : 'fewer'} than ${schemaCode} characters`,
      params: ({ schemaCode }) => _`{limit: ${schemaCode}}`,
    },
    code(cxt: KeywordCxt) {
      const { keyword, data, schemaCode, gen } = cxt;
      // ajv's own code-point count, read when a schema compiles, as ajv's keyword does.
      const ucs2length = (require('ajv/dist/runtime/ucs2length') as { default: CodePointCount }).default;
      const count = gen.scopeValue('func', { ref: ucs2length, code: _`require("ajv/dist/runtime/ucs2length").default` });
      cxt.fail$data(
        keyword === 'maxLength'
          ? _`${data}.length > ${schemaCode} && ${count}(${data}) > ${schemaCode}`
          : _`${data}.length < ${schemaCode} || (${data}.length < 2 * ${schemaCode} && ${count}(${data}) < ${schemaCode})`,
      );
    },
  };
}

/** Largest serialized tool schema accepted, bytes. */
export const MAX_SCHEMA_BYTES = 256 * 1024;

/** Compiles a JavaScript pattern to RE2. @throws when RE2 cannot run it (lookaround, backreferences, bad syntax). */
function compileRe2(source: string): RE2JS {
  // translateRegExp maps JavaScript-only syntax (`\u{…}`, named groups) to RE2's; it mangles `\k<name>`, refused first.
  if (/\\k</.test(source)) throw new Error('backreferences are not supported');
  return RE2JS.compile(RE2JS.translateRegExp(source));
}

/**
 * ajv's regular-expression engine for untrusted schemas: RE2, linear in the input whatever the pattern.
 * `code` only matters for ajv's standalone code generation, which is not used.
 */
export const re2Engine: RegExpEngine = Object.assign(
  (pattern: string): { test: (s: string) => boolean; toString: () => string } => {
    const re = compileRe2(pattern);
    // ajv keys its compiled patterns by toString(): each must be distinct, as a RegExp's is.
    return { test: (s: string) => re.test(s), toString: () => `/${pattern}/u` };
  },
  { code: 're2js' },
);

/**
 * A fresh ajv for tool schemas: lenient about unknown keywords (schemas in the wild carry extras), patterns
 * in RE2. `validateSchema: false` only for schemas already checked against their meta-schema (ajv would
 * check each again as it compiles it, and compile the 2020-12 meta-schema itself first: tens of ms).
 */
export function createToolAjv(options: { validateSchema?: boolean } = {}): Ajv2020 {
  const lib = ajvLibrary();
  const ajv = new lib.Ajv({ strict: false, allErrors: false, validateSchema: options.validateSchema ?? true, addUsedSchema: false, code: { regExp: re2Engine } });
  lib.addFormats(ajv);
  ajv.removeKeyword('maxLength').removeKeyword('minLength').addKeyword(lengthKeywords(lib));
  return ajv;
}

/** A strict ajv for our own published schemas. */
export function createStrictAjv(): Ajv2020 {
  const { Ajv, addFormats } = ajvLibrary();
  const ajv = new Ajv({ strict: true, allErrors: false });
  addFormats(ajv);
  return ajv;
}

export type Validator = ValidateFunction;

/**
 * One readable sentence naming the failing field, e.g. `"pattern" (at /pattern) must be string` or
 * `missing required property "path"`. Never echoes the offending value.
 */
export function describeAjvError(errors: readonly ErrorObject[] | null | undefined, root = 'arguments'): string {
  const e = errors?.[0];
  if (!e) return `${root} are invalid`;
  const at = e.instancePath === '' ? root : `${root}${e.instancePath.replace(/\//g, '.')}`;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${at}: missing required property "${String(params.missingProperty)}"`;
    case 'additionalProperties':
      return `${at}: unexpected property "${String(params.additionalProperty).slice(0, 100)}"`;
    case 'enum':
      return `${at} must be one of ${JSON.stringify(params.allowedValues).slice(0, 300)}`;
    default:
      return `${at} ${e.message ?? 'is invalid'}`;
  }
}

/** Why a regular expression from an untrusted schema cannot be used (RE2 cannot run it), or null if it is fine. */
export function unsafeRegexReason(source: string): string | null {
  if (source.length > 1000) return 'pattern longer than 1000 characters';
  try {
    new RegExp(source, 'u');
  } catch {
    return 'not a valid regular expression';
  }
  try {
    compileRe2(source);
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^error parsing regexp: /, '').slice(0, 200) : 'unsupported syntax';
    return `not supported by the linear-time regular-expression engine (RE2: no lookaround or backreferences): ${why}`;
  }
  return null;
}

/**
 * Walks a schema and returns the first unsafe `pattern` / `patternProperties` key found, as a message.
 * The path in the message is built only for that one (every installed tool schema is walked at start-up).
 */
export function findUnsafePattern(schema: unknown, path = ''): string | null {
  const keys: string[] = [];
  const at = (): string => path + keys.map((k) => `/${k}`).join('');
  const walk = (node: unknown): string | null => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        keys.push(String(i));
        const r = walk(node[i]);
        keys.pop();
        if (r) return r;
      }
      return null;
    }
    if (node === null || typeof node !== 'object') return null;
    for (const key of Object.keys(node)) {
      const value = (node as Record<string, unknown>)[key];
      if (key === 'pattern' && typeof value === 'string') {
        const why = unsafeRegexReason(value);
        if (why) return `${at()}/pattern: ${why}`;
      }
      if (key === 'patternProperties' && value && typeof value === 'object') {
        for (const p of Object.keys(value)) {
          const why = unsafeRegexReason(p);
          if (why) return `${at()}/patternProperties: ${why}`;
        }
      }
      if (value === null || typeof value !== 'object') continue;
      keys.push(key);
      const r = walk(value);
      keys.pop();
      if (r) return r;
    }
    return null;
  };
  return walk(schema);
}

/** Deepest nesting of arguments accepted: the audit digest, ajv and the sandbox's copy all recurse. */
export const MAX_ARGUMENT_DEPTH = 64;

/**
 * True when `value` nests arrays or objects deeper than `max` levels (the top level is 1). Iterative, with
 * an explicit stack, so it runs before anything recursive and cannot overflow itself.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
