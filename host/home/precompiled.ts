/**
 * Validators of mcp-warden's own published schemas (lock.json, trust.json, the manifest, config.json), compiled to JavaScript at build
 * time (scripts/compile-validators.ts, ajv's standalone code) so that a serve's start-up does not run ajv's
 * compiler on them (measured ~100 ms of CPU before the first tools/list). The code is generated from the
 * same schema files, by the same strict ajv, and carries the digest of the schema it was made from: a file
 * that does not match the schema in use (a stale build), or is missing (the source tree, run by type
 * stripping), is not used and the schema is compiled as before, on first use.
 *
 * Each generated file may have a V8 code cache beside it (`<file>.v8cache`, written by the build after
 * running the validator on sample data): the bytecode of its functions, so that the first validation
 * neither parses ~150 KB of generated code nor compiles its functions (~5–10 ms each at serve's start-up,
 * issue 14). The cache starts with the SHA-256 of the code it was made from and is used only for that
 * very code; V8 refuses a cache from another V8 version or with other flags. Either way, a cache that
 * does not match is ignored and the code is compiled from its text, so it can make loading faster,
 * never different.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { createStrictAjv } from '../serve/validation.ts';

/** The precompiled validators: each schema (relative to the repository) and its code in the build's output. */
export const PRECOMPILED = {
  lock: { schema: 'host/home/lock.schema.json', output: 'host/home/lock.validate.cjs' },
  trust: { schema: 'host/trust/trust.schema.json', output: 'host/trust/trust.validate.cjs' },
  manifest: { schema: 'host/manifest.schema.json', output: 'host/manifest.validate.cjs' },
  config: { schema: 'host/home/config.schema.json', output: 'host/home/config.validate.cjs' },
  policy: { schema: 'host/policy/schema.json', output: 'host/policy/schema.validate.cjs' },
} as const;

/**
 * The JSON Schema 2020-12 meta-schema as ajv holds it, precompiled for the check of tool schemas against
 * it (host/serve/tool-validators.ts): compiling it at start-up was ~80 ms of serve's CPU before the first
 * tools/list. It is ajv's own copy, so the file records the ajv and ajv-formats versions it was made with;
 * another version (a stale build) or a missing file means the tool ajv checks schemas itself, as before.
 */
export const META_SCHEMA = { id: 'https://json-schema.org/draft/2020-12/schema', output: 'host/serve/tool-meta.validate.cjs' } as const;

/** The digest a precompiled validator records of the schema it was generated from. */
export function schemaDigest(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

const require = createRequire(import.meta.url);

/** The code cache of a generated file: `<file>.v8cache`. */
export function codeCachePath(file: string): string {
  return `${file}.v8cache`;
}

/** A CommonJS file's text as the function Node's loader would compile it to. */
export function wrapCommonJs(source: string): string {
  return `(function (exports, require, module, __filename, __dirname) { ${source}\n})`;
}

const HASH_BYTES = 32;

/** The cache file's contents: the SHA-256 of the wrapped code it belongs to, then V8's data. */
export function codeCacheFile(wrapped: string, data: Buffer): Buffer {
  return Buffer.concat([createHash('sha256').update(wrapped).digest(), data]);
}

/** V8's data of `path`'s cache when it was made from exactly `wrapped`, else undefined. */
function cachedDataFor(path: string, wrapped: string): Buffer | undefined {
  try {
    // No cache (the source tree, an older build): the read fails and the text is compiled.
    const bytes = readFileSync(codeCachePath(path));
    if (bytes.length <= HASH_BYTES || !createHash('sha256').update(wrapped).digest().equals(bytes.subarray(0, HASH_BYTES))) return undefined;
    return bytes.subarray(HASH_BYTES);
  } catch {
    return undefined;
  }
}

/**
 * ajv's `ucs2length` runtime helper (the length of a string in code points, for minLength/maxLength), the
 * one module every generated validator requires: served from here instead of resolving and loading it
 * from node_modules at start-up (~2 ms). Counts like ajv's: a surrogate pair is one, a lone surrogate one.
 */
export function ucs2length(str: string): number {
  let length = 0;
  for (let pos = 0; pos < str.length; length++) {
    const value = str.charCodeAt(pos++);
    if (value >= 0xd800 && value <= 0xdbff && pos < str.length && (str.charCodeAt(pos) & 0xfc00) === 0xdc00) pos++;
  }
  return length;
}

/** The `require` a generated file gets: its own, except for ajv's ucs2length helper (above). */
function generatedRequire(path: string): (id: string) => unknown {
  const own = createRequire(path);
  return (id) => (id === 'ajv/dist/runtime/ucs2length' ? { default: ucs2length } : own(id));
}

const loaded = new Map<string, { default?: unknown; stamp?: unknown; schemaDigest?: unknown }>();
const fromCache = new Map<string, boolean>();

/** Whether the generated file at `path` was loaded from its code cache (false: compiled from its text). */
export function loadedFromCodeCache(path: string): boolean | undefined {
  return fromCache.get(path);
}

/**
 * Loads a generated CommonJS file as `require` would (its own `require`, `module`, `exports`), from its V8
 * code cache when one made from this very code is beside it. Once per file.
 */
export function loadGeneratedFile(path: string): { default?: unknown; stamp?: unknown; schemaDigest?: unknown } {
  let exports = loaded.get(path);
  if (exports === undefined) {
    const wrapped = wrapCommonJs(readFileSync(path, 'utf8'));
    const cachedData = cachedDataFor(path, wrapped);
    const script = new Script(wrapped, { filename: path, ...(cachedData ? { cachedData } : {}) });
    const module = { exports: {} as Record<string, unknown> };
    (script.runInThisContext() as (...args: unknown[]) => void)(module.exports, generatedRequire(path), module, path, dirname(path));
    exports = module.exports;
    loaded.set(path, exports);
    fromCache.set(path, cachedData !== undefined && !script.cachedDataRejected);
  }
  return exports;
}

/**
 * The validator of `schema` (made on first use): the precompiled code at `file` when it was generated from
 * this very schema, otherwise the schema compiled by a strict ajv.
 */
export function strictValidator(schema: object, file: URL): () => ValidateFunction {
  let validate: ValidateFunction | null = null;
  return () => {
    validate ??= precompiled(schema, file) ?? createStrictAjv().compile(schema);
    return validate;
  };
}

/** The versions of the libraries the meta-schema's code is generated by (the stamp of META_SCHEMA's file). */
export function metaSchemaStamp(): string {
  const version = (name: string): string => (require(`${name}/package.json`) as { version: string }).version;
  return `ajv@${version('ajv')} ajv-formats@${version('ajv-formats')}`;
}

const metaValidators = new Map<string, ValidateFunction | null>();

/**
 * The precompiled check of a schema against the 2020-12 meta-schema (the same answer and errors as the
 * tool ajv's validateSchema for a schema without another $schema), or null when the build has none made
 * by the ajv in use. `file`: the generated code (the build's, beside the compiled host, by default).
 */
export function precompiledMetaSchema(file = new URL(`../../${META_SCHEMA.output}`, import.meta.url)): ValidateFunction | null {
  let v = metaValidators.get(file.href);
  if (v === undefined) {
    const mod = loadGenerated(file);
    v = typeof mod?.default === 'function' && mod.stamp === metaSchemaStamp() ? (mod.default as ValidateFunction) : null;
    metaValidators.set(file.href, v);
  }
  return v;
}

/** A generated file's exports, or null when it is missing (the source tree) or does not load. */
function loadGenerated(file: URL): { default?: unknown; stamp?: unknown } | null {
  try {
    return loadGeneratedFile(fileURLToPath(file));
  } catch {
    return null;
  }
}

function precompiled(schema: object, file: URL): ValidateFunction | null {
  let mod: { default?: unknown; schemaDigest?: unknown };
  try {
    mod = loadGeneratedFile(fileURLToPath(file));
  } catch {
    return null;
  }
  if (typeof mod.default !== 'function' || mod.schemaDigest !== schemaDigest(schema)) return null;
  return mod.default as ValidateFunction;
}
