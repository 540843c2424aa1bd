import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/host.ts';
import { META_SCHEMA, PRECOMPILED, codeCachePath, loadedFromCodeCache, precompiledMetaSchema, strictValidator, ucs2length } from '../../host/home/precompiled.ts';
import ajvUcs2length from 'ajv/dist/runtime/ucs2length.js';
import { createToolAjv } from '../../host/serve/validation.ts';

// Start-up compiled the lock.json and trust.json schemas with ajv at import (~100 ms of a serve's start);
// the build compiles them to JavaScript once (ajv standalone) and the host loads that code instead.
const schemaOf = (name: string) => JSON.parse(readFileSync(join(ROOT, PRECOMPILED[name as keyof typeof PRECOMPILED].schema), 'utf8')) as object;

// Inside the repository, as dist/ is: the generated code requires ajv's small runtime helpers from node_modules.
const outs: string[] = [];
function outDir(): string {
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, 'dist', '.validators-test-'));
  outs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of outs) rmSync(dir, { recursive: true, force: true });
});

describe('the precompiled validators of our own schemas (issue 14)', () => {
  it('are written by scripts/compile-validators.ts and used in place of ajv\'s compiler', () => {
    const out = outDir();
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'compile-validators.ts'), out]);
    for (const name of Object.keys(PRECOMPILED)) {
      const entry = PRECOMPILED[name as keyof typeof PRECOMPILED];
      const file = pathToFileURL(join(out, entry.output));
      const validate = strictValidator(schemaOf(name), file)();
      expect(validate.name).not.toBe('');
      expect((validate as unknown as { precompiled?: boolean }).precompiled).toBe(true);
      // It judges like the compiled schema: an object with an unknown key misses required properties or
      // has one too many (config.json requires nothing; every schema is closed).
      expect(validate({ unknownKey: 1 })).toBe(false);
      expect(['required', 'additionalProperties']).toContain(validate.errors?.[0]?.keyword);
    }
  });

  it('are not used when the schema changed since the build (a stale file): the schema is compiled instead', () => {
    const out = outDir();
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'compile-validators.ts'), out]);
    const entry = PRECOMPILED.lock;
    const file = join(out, entry.output);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/schemaDigest = "[0-9a-f]+"/, 'schemaDigest = "0000"'));
    const validate = strictValidator(schemaOf('lock'), pathToFileURL(file))();
    expect((validate as unknown as { precompiled?: boolean }).precompiled).toBeUndefined();
    expect(validate({})).toBe(false);
  });

  it('are loaded from the V8 code cache the build writes beside each of them (fifth pass: no parse or compile of the generated code at start-up)', () => {
    const out = outDir();
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'compile-validators.ts'), out]);
    for (const name of Object.keys(PRECOMPILED)) {
      const file = join(out, PRECOMPILED[name as keyof typeof PRECOMPILED].output);
      expect(existsSync(codeCachePath(file)), name).toBe(true);
      const validate = strictValidator(schemaOf(name), pathToFileURL(file))();
      expect((validate as unknown as { precompiled?: boolean }).precompiled, name).toBe(true);
      expect(loadedFromCodeCache(file), name).toBe(true);
      expect(validate({ unknownKey: 1 }), name).toBe(false);
    }
    const meta = join(out, META_SCHEMA.output);
    expect(precompiledMetaSchema(pathToFileURL(meta))).not.toBeNull();
    expect(loadedFromCodeCache(meta)).toBe(true);
  });

  it('ignore a code cache made from other code, even code of the same length: the file\'s own code runs', () => {
    const out = outDir();
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'compile-validators.ts'), out]);
    const file = join(out, PRECOMPILED.lock.output);
    // Same length, other digest: V8 alone would take the cache (it checks the length of the source).
    writeFileSync(file, readFileSync(file, 'utf8').replace(/schemaDigest = "([0-9a-f]+)"/, (_m, hex: string) => `schemaDigest = "${'0'.repeat(hex.length)}"`));
    const validate = strictValidator(schemaOf('lock'), pathToFileURL(file))();
    expect(loadedFromCodeCache(file)).toBe(false);
    expect((validate as unknown as { precompiled?: boolean }).precompiled).toBeUndefined();
    expect(validate({})).toBe(false);
  });

  it('count string lengths with the host\'s ucs2length exactly as ajv\'s helper does (surrogate pairs, lone surrogates)', () => {
    const ajvCount = ((ajvUcs2length as unknown as { default?: (s: string) => number }).default ?? ajvUcs2length) as (s: string) => number;
    for (const text of ['', 'abc', '😀', 'a😀b', '\ud800', '\ud800a', '\udc00', 'a\ud83d', '\ud83d\ud83d\ude00', '\udc00\ud800', 'é✓𝄞'.repeat(50)]) {
      expect(ucs2length(text), JSON.stringify(text)).toBe(ajvCount(text));
    }
  });

  it('are in dist/ as the suite built it, current with the schemas', () => {
    for (const name of Object.keys(PRECOMPILED)) {
      const entry = PRECOMPILED[name as keyof typeof PRECOMPILED];
      const validate = strictValidator(schemaOf(name), pathToFileURL(join(ROOT, 'dist', entry.output)))();
      expect((validate as unknown as { precompiled?: boolean }).precompiled).toBe(true);
    }
  });
});

// Tool schemas are checked against the 2020-12 meta-schema when a package loads; ajv compiling that
// meta-schema was ~80 ms of a serve's start-up. The build precompiles it; it must refuse what ajv refuses.
describe('the precompiled meta-schema check of tool schemas (issue 14, start-up)', () => {
  const corpus: unknown[] = [
    { type: 'object', properties: { a: { type: 'string', pattern: '^a+$' } }, required: ['a'] },
    { type: 'objec' },
    { type: 'object', properties: { a: { type: 'no-such-type' } } },
    { properties: { a: { minLength: -1 } } },
    { properties: { a: { items: 3 } } },
    { $defs: { x: { $dynamicAnchor: 'meta', type: 5 } }, $ref: '#/$defs/x' },
    { anyOf: [] },
    { required: ['a', 'a'] },
    { enum: 'x' },
    { type: 'object', additionalProperties: { $anchor: '1bad' } },
    { type: 'object', properties: { deep: { properties: { deeper: { properties: { x: { maximum: 'ten' } } } } } } },
    true,
    { $schema: META_SCHEMA.id, type: 'object' },
  ];

  it('is written by scripts/compile-validators.ts and refuses exactly what the tool ajv refuses, with its first error', () => {
    const out = outDir();
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'compile-validators.ts'), out]);
    const meta = precompiledMetaSchema(pathToFileURL(join(out, META_SCHEMA.output)));
    expect(meta).not.toBeNull();
    const ajv = createToolAjv();
    let refused = 0;
    for (const schema of corpus) {
      const expected = ajv.validateSchema(schema as object) as boolean;
      expect(meta?.(schema), JSON.stringify(schema)).toBe(expected);
      if (!expected) {
        refused++;
        expect(meta?.errors?.[0]?.instancePath, JSON.stringify(schema)).toBe(ajv.errors?.[0]?.instancePath);
        expect(meta?.errors?.[0]?.keyword, JSON.stringify(schema)).toBe(ajv.errors?.[0]?.keyword);
      }
    }
    expect(refused).toBeGreaterThanOrEqual(8);
  });

  it('is not used when made by another ajv (a stale build): the tool ajv checks the schemas itself', () => {
    const out = outDir();
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'compile-validators.ts'), out]);
    const file = join(out, META_SCHEMA.output);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/stamp = "[^"]+"/, 'stamp = "ajv@0.0.0"'));
    expect(precompiledMetaSchema(pathToFileURL(file))).toBeNull();
  });

  it('is in dist/ as the suite built it, current with the ajv in use', () => {
    expect(precompiledMetaSchema(pathToFileURL(join(ROOT, 'dist', META_SCHEMA.output)))).not.toBeNull();
  });
});
