/**
 * JSON Schema validation for manifests and tool schemas (ajv, JSON Schema 2020-12 as MCP specifies).
 *
 * Threat: tool schemas come from untrusted packages but are compiled and run in the host process. ajv
 * generates code from them, so they are checked first: no remote `$ref` is ever fetched (no loadSchema),
 * their size is bounded, and `pattern` regular expressions with nested quantifiers (catastrophic
 * backtracking: `(a+)+$`) or backreferences are refused, so a hostile schema cannot stall the host's event
 * loop on a crafted argument.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; its default export is the plugin function.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** Largest serialized tool schema accepted, bytes. */
export const MAX_SCHEMA_BYTES = 256 * 1024;

/** A fresh ajv for tool schemas: lenient about unknown keywords (schemas in the wild carry extras). */
export function createToolAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: false, validateSchema: true, addUsedSchema: false });
  addFormats(ajv);
  return ajv;
}

/** A strict ajv for our own published schemas. */
export function createStrictAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: false });
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

/** Why a regular expression from an untrusted schema is unsafe to run on the host, or null if it is fine. */
export function unsafeRegexReason(source: string): string | null {
  if (source.length > 1000) return 'pattern longer than 1000 characters';
  if (/\\[1-9]|\\k</.test(source)) return 'backreferences are not allowed';
  try {
    new RegExp(source, 'u');
  } catch {
    return 'not a valid regular expression';
  }
  // Star height: a quantified group that itself contains a quantifier can backtrack exponentially.
  const stack: boolean[] = [];
  let inner = false; // does the current group contain a quantifier?
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      // skip a character class
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
      continue;
    }
    if (c === '(') {
      stack.push(inner);
      inner = false;
      continue;
    }
    if (c === ')') {
      const groupHasQuantifier = inner;
      inner = stack.pop() ?? false;
      const next = source[i + 1];
      const quantified = next === '*' || next === '+' || (next === '{' && /^\{\d*,\d*\}/.test(source.slice(i + 1)));
      if (quantified && groupHasQuantifier) return 'nested quantifiers (catastrophic backtracking) are not allowed';
      if (groupHasQuantifier || quantified) inner = true;
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') inner = true;
  }
  return null;
}

/** Walks a schema and returns the first unsafe `pattern` / `patternProperties` key found, as a message. */
export function findUnsafePattern(schema: unknown, path = ''): string | null {
  if (Array.isArray(schema)) {
    for (let i = 0; i < schema.length; i++) {
      const r = findUnsafePattern(schema[i], `${path}/${i}`);
      if (r) return r;
    }
    return null;
  }
  if (schema === null || typeof schema !== 'object') return null;
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'pattern' && typeof value === 'string') {
      const why = unsafeRegexReason(value);
      if (why) return `${path}/pattern: ${why}`;
    }
    if (key === 'patternProperties' && value && typeof value === 'object') {
      for (const p of Object.keys(value)) {
        const why = unsafeRegexReason(p);
        if (why) return `${path}/patternProperties: ${why}`;
      }
    }
    const r = findUnsafePattern(value, `${path}/${key}`);
    if (r) return r;
  }
  return null;
}
