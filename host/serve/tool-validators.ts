/**
 * The JSON Schema validators of a package's tools: each schema is checked against the meta-schema when
 * the package loads (a bad schema is refused then), and compiled on first use, once per schema text, in
 * the RE2-backed ajv of ./validation.ts.
 */
import { HostError } from '../errors.ts';
import { MCP_TOOL_NAME, namespacedToolName } from '../manifest.ts';
import type { PackageManifest } from '../manifest.ts';
import type { LoadedPackage, LoadedTool } from './loader.ts';
import { META_SCHEMA, precompiledMetaSchema } from '../home/precompiled.ts';
import { createToolAjv, describeAjvError } from './validation.ts';
import type { Validator } from './validation.ts';

/** A schema validator: call it on data; `errors` describes the last failure; `compile()` forces compilation. */
export interface LazyValidator {
  (data: unknown): boolean;
  readonly errors: Validator['errors'];
  compile(): Validator;
}

// Compiled validators, shared by schema text: the same schema always compiles to the same function, and
// addUsedSchema is off, so no $id of one package is visible to another.
const compiled = new Map<string, Validator>();
// The ajv that compiles tool schemas. It does not check them against the meta-schema again: compileTools
// checked each one before making its validator (so a bad schema is refused when the package loads), and
// ajv's own check would first compile the 2020-12 meta-schema in the host (tens of ms of the first call
// or of the background warm-up, for an answer already known).
let compileAjv: ReturnType<typeof createToolAjv> | null = null;
// The ajv that checks a schema naming another $schema (or any schema, in a build without the precompiled
// meta-schema) against its meta-schema.
let checkAjv: ReturnType<typeof createToolAjv> | null = null;

/**
 * A validator compiled on first use (once), so a host with many packages starts without compiling
 * hundreds of schemas: ajv code generation is ~5 ms per schema and was most of startup. `schema` must
 * already have passed `metaCheck` (compileTools makes a validator only after it): a bad schema is refused
 * at load, and the compile does not check it again. `warmValidators` compiles the rest in the background
 * right after startup.
 */
function lazyValidator(schema: object, what: string): LazyValidator {
  let fn: Validator | null = null;
  const get = (): Validator => {
    if (fn !== null) return fn;
    const key = JSON.stringify(schema);
    let v = compiled.get(key);
    if (v === undefined) {
      compileAjv ??= createToolAjv({ validateSchema: false });
      try {
        v = compileAjv.compile(schema);
      } catch (e) {
        const why = e instanceof Error ? e.message.slice(0, 300) : 'does not compile';
        throw new HostError('MANIFEST_INVALID', `${what} is not a valid JSON Schema: ${why}`);
      }
      compiled.set(key, v);
    }
    fn = v;
    return v;
  };
  const validate = ((data: unknown) => get()(data)) as LazyValidator;
  Object.defineProperty(validate, 'errors', { get: () => fn?.errors ?? null });
  Object.defineProperty(validate, 'compile', { value: get });
  return validate;
}

/** Compiles every tool's validators, one per macrotask, so the event loop keeps answering meanwhile. */
export async function warmValidators(packages: readonly LoadedPackage[]): Promise<void> {
  for (const pkg of packages) {
    for (const tool of pkg.tools) {
      for (const v of [tool.validateInput, tool.validateOutput]) {
        if (v === undefined) continue;
        await new Promise((r) => setImmediate(r));
        try {
          v.compile();
        } catch {
          // Reported again, with its code, by the call that uses it.
        }
      }
    }
  }
}

// Schemas (by text) already checked against the meta-schema.
const metaChecked = new Set<string>();

/** The tools of a package; `prefix` false: their names are the package's own (serve --no-prefix). */
export function compileTools(pm: PackageManifest, prefix = true): LoadedTool[] {
  const metaCheck = (schema: object, at: string): void => {
    const key = JSON.stringify(schema);
    if (metaChecked.has(key)) return;
    // The 2020-12 meta-schema precompiled at build time (ajv compiling it was ~80 ms of start-up); a
    // schema naming another $schema, or a build without the file, goes through the tool ajv as before.
    const $schema = (schema as { $schema?: unknown }).$schema;
    const meta = $schema === undefined || $schema === META_SCHEMA.id ? precompiledMetaSchema() : null;
    let errors: Validator['errors'];
    if (meta !== null) {
      if (meta(schema)) return void metaChecked.add(key);
      errors = meta.errors;
    } else {
      checkAjv ??= createToolAjv();
      if (checkAjv.validateSchema(schema)) return void metaChecked.add(key);
      errors = checkAjv.errors;
    }
    throw new HostError('MANIFEST_INVALID', `${pm.name}: ${at} is not a valid JSON Schema: ${describeAjvError(errors, at)}`);
  };
  return pm.manifest.tools.map((spec, i) => {
    const fullName = prefix ? namespacedToolName(pm.name, spec.name) : spec.name;
    if (!MCP_TOOL_NAME.test(fullName)) throw new HostError('MANIFEST_INVALID', `${pm.name}: tool name "${fullName}" breaks MCP's tool-name rules`);
    metaCheck(spec.inputSchema, `tools[${i}].inputSchema`);
    const validateInput = lazyValidator(spec.inputSchema, `${pm.name}: tools[${i}].inputSchema`);
    if (!spec.outputSchema) return { fullName, spec, validateInput };
    metaCheck(spec.outputSchema, `tools[${i}].outputSchema`);
    const validateOutput = lazyValidator(spec.outputSchema, `${pm.name}: tools[${i}].outputSchema`);
    return { fullName, spec, validateInput, validateOutput };
  });
}
