/**
 * The home's settings, <home>/config.json: optional (a missing file, section or key takes its default),
 * checked against its published schema (host/home/config.schema.json, closed: an unknown or misspelt
 * key is refused, never ignored) and, like lock.json, believed only if nobody else can write it
 * (host/home/modes.ts). Each section has a pure parser that fills in its defaults.
 *
 * Add a section in two places: its schema under `properties` (and `$defs`) in config.schema.json, and
 * its parser in SECTIONS below.
 */
import { join } from 'node:path';
import { HostError } from '../errors.ts';
import { parseBreakerConfig, parseDlpConfig } from '../../runtime/index.ts';
import type { BreakerConfig } from '../../runtime/index.ts';
import { parseAuditConfig } from '../serve/audit.ts';
import { parseQuarantineConfig } from '../serve/quarantine.ts';
import { parseSecretsConfig } from '../secrets/sources.ts';
import { describeAjvError } from '../serve/validation.ts';
import { readJsonFile } from './files.ts';
import type { Home } from './home.ts';
import { assertSafe } from './modes.ts';
import { strictValidator } from './precompiled.ts';
import configSchemaJson from './config.schema.json' with { type: 'json' };

/** Each section of config.json and its parser: the section as written (undefined when absent) → its settings. */
const SECTIONS = {
  audit: parseAuditConfig,
  dlp: parseDlpConfig,
  circuitBreaker: (raw: unknown): BreakerConfig => {
    const parsed = parseBreakerConfig(raw);
    if (!parsed.ok) throw invalid(parsed.error);
    return parsed.config;
  },
  quarantine: parseQuarantineConfig,
  trust: (raw: { strictDefinitions?: boolean } | undefined): { readonly strictDefinitions: boolean } => ({ strictDefinitions: raw?.strictDefinitions === true }),
  secrets: parseSecretsConfig,
} as const;

export type WardenConfig = { readonly [K in keyof typeof SECTIONS]: ReturnType<(typeof SECTIONS)[K]> };

// Precompiled at build time (scripts/compile-validators.ts); compiled on first use where it is not.
const configValidator = strictValidator(configSchemaJson as object, new URL('./config.validate.cjs', import.meta.url));

/** The path of a home's config.json. */
export function configPath(home: Home): string {
  return join(home.dir, 'config.json');
}

/** The published JSON Schema of config.json. */
export function configSchema(): unknown {
  return structuredClone(configSchemaJson);
}

function invalid(message: string): HostError {
  return new HostError('CONFIG_INVALID', `config.json: ${message}; see docs/config.md`);
}

/**
 * The settings of a parsed config.json (undefined: no file): checked against the schema, then each
 * section parsed with its defaults. Pure. @throws HostError CONFIG_INVALID naming the field
 */
export function parseConfig(data: unknown): WardenConfig {
  const raw = data ?? {};
  // No file: nothing to check (every key is optional), and the validator is not even loaded.
  if (data !== undefined) {
    const validate = configValidator();
    if (!validate(raw)) throw invalid(describeAjvError(validate.errors, 'config'));
  }
  const sections = raw as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [name, parse] of Object.entries(SECTIONS)) out[name] = parse(sections[name] as never);
  return out as WardenConfig;
}

/** The defaults: what a home without config.json gets. */
export function defaultConfig(): WardenConfig {
  return parseConfig(undefined);
}

/**
 * Reads <home>/config.json (missing: the defaults). The home and the file must be safe (not writable by
 * others), as lock.json must: a setting another user could change (the audit rotation, a DLP action, a
 * network rule) is as much a trust decision as a grant.
 * @throws HostError HOME_UNSAFE, CONFIG_INVALID
 */
export async function readConfig(home: Home): Promise<WardenConfig> {
  const path = configPath(home);
  await assertSafe(home.dir);
  await assertSafe(path);
  const data = await readJsonFile(path, (why) => invalid(why === 'not-json' ? 'is not valid JSON' : 'cannot be read'));
  return parseConfig(data);
}
