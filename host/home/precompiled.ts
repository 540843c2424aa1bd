/**
 * Validators of mcp-warden's own published schemas (lock.json, trust.json, the manifest, config.json), compiled to JavaScript at build
 * time (scripts/compile-validators.ts, ajv's standalone code) so that a serve's start-up does not run ajv's
 * compiler on them (measured ~100 ms of CPU before the first tools/list). The code is generated from the
 * same schema files, by the same strict ajv, and carries the digest of the schema it was made from: a file
 * that does not match the schema in use (a stale build), or is missing (the source tree, run by type
 * stripping), is not used and the schema is compiled as before, on first use.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
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

/** The digest a precompiled validator records of the schema it was generated from. */
export function schemaDigest(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

const require = createRequire(import.meta.url);

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

function precompiled(schema: object, file: URL): ValidateFunction | null {
  let mod: { default?: unknown; schemaDigest?: unknown };
  try {
    mod = require(fileURLToPath(file)) as typeof mod;
  } catch {
    return null;
  }
  if (typeof mod.default !== 'function' || mod.schemaDigest !== schemaDigest(schema)) return null;
  return mod.default as ValidateFunction;
}
