/**
 * The home's config.json: optional, checked against its published (closed) schema, believed only if
 * nobody else can write it.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configPath, configSchema, defaultConfig, parseConfig, readConfig } from '../../../host/home/config.ts';
import { homeLayout } from '../../../host/home/home.ts';
import { DEFAULT_AUDIT_CONFIG } from '../../../host/serve/audit.ts';
import { DEFAULT_QUARANTINE_CONFIG } from '../../../host/serve/quarantine.ts';
import { DEFAULT_BREAKER_CONFIG, DEFAULT_DLP_CONFIG } from '../../../runtime/index.ts';
import { codeOf, errorOf } from '../../helpers/codes.ts';

const parseConfigCode = (raw: unknown): string => codeOf(() => parseConfig(raw));
import { tempDir } from '../../helpers/tool-package.ts';

describe('readConfig', () => {
  it('gives the defaults when the home has no config.json', async () => {
    const home = homeLayout(tempDir('mcpw-config-'));
    expect(await readConfig(home)).toEqual({ audit: { maxBytes: 10 * 1024 * 1024, keep: 5 }, dlp: DEFAULT_DLP_CONFIG, circuitBreaker: DEFAULT_BREAKER_CONFIG, quarantine: DEFAULT_QUARANTINE_CONFIG, trust: { strictDefinitions: false }, secrets: { fromEnv: {}, file: null, keychain: true } });
    expect(defaultConfig().audit).toEqual(DEFAULT_AUDIT_CONFIG);
  });

  it('reads the quarantine section and refuses a threshold below 1, naming the key', () => {
    expect(parseConfig({ quarantine: { capabilityDenials: 3 } }).quarantine).toEqual({ ...DEFAULT_QUARANTINE_CONFIG, capabilityDenials: 3 });
    expect(() => parseConfig({ quarantine: { limitKills: 0 } })).toThrow(/CONFIG_INVALID|config\.quarantine\.limitKills must be >= 1/);
    expect(() => parseConfig({ quarantine: { windowMs: 10 } })).toThrow(/config\.quarantine\.windowMs/);
    expect(() => parseConfig({ quarantine: { threshold: 1 } })).toThrow(/config\.quarantine/);
  });

  it('reads the keys it is given and defaults the others', async () => {
    const home = homeLayout(tempDir('mcpw-config-'));
    writeFileSync(configPath(home), JSON.stringify({ audit: { keep: 2 } }), { mode: 0o600 });
    expect((await readConfig(home)).audit).toEqual({ maxBytes: 10 * 1024 * 1024, keep: 2 });
  });

  it.each([
    ['an unknown section', { adit: {} }, /config: unexpected property "adit"/],
    ['an unknown key', { audit: { maxbytes: 1 } }, /config\.audit: unexpected property "maxbytes"/],
    ['a value of the wrong type', { audit: { maxBytes: '10MB' } }, /config\.audit\.maxBytes must be integer/],
    ['a value out of range', { audit: { keep: 0 } }, /config\.audit\.keep must be >= 1/],
    ['a size too small to hold a record', { audit: { maxBytes: 100 } }, /config\.audit\.maxBytes must be >= 4096/],
    ['not an object', [1], /config must be object/],
  ])('refuses %s with CONFIG_INVALID naming the field, in one line', async (_what, content, message) => {
    const home = homeLayout(tempDir('mcpw-config-'));
    writeFileSync(configPath(home), JSON.stringify(content), { mode: 0o600 });
    const e = await errorOf(() => readConfig(home));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(message);
    expect(e.message.split('\n')).toHaveLength(1);
  });

  it('refuses a file that is not JSON with CONFIG_INVALID', async () => {
    const home = homeLayout(tempDir('mcpw-config-'));
    writeFileSync(configPath(home), '{ audit: ', { mode: 0o600 });
    const e = await errorOf(() => readConfig(home));
    expect([e.code, e.message]).toEqual(['CONFIG_INVALID', expect.stringMatching(/config.json: is not valid JSON/)]);
  });

  it.each([0o666, 0o620, 0o602])('refuses a config.json others can write (mode %o) with HOME_UNSAFE, saying how to fix it', async (mode) => {
    const home = homeLayout(tempDir('mcpw-config-'));
    writeFileSync(configPath(home), JSON.stringify({ audit: { keep: 2 } }));
    chmodSync(configPath(home), mode);
    const e = await errorOf(() => readConfig(home));
    expect(e.code).toBe('HOME_UNSAFE');
    expect(e.message).toContain(`chmod 600 ${configPath(home)}`);
  });

  it('refuses a home others can write, even without config.json', async () => {
    const home = homeLayout(tempDir('mcpw-config-'));
    chmodSync(home.dir, 0o777);
    expect((await errorOf(() => readConfig(home))).code).toBe('HOME_UNSAFE');
  });
});

describe('the published schema', () => {
  it('is closed at every level: a misspelt key is an error, never ignored', () => {
    const schema = configSchema() as { additionalProperties: boolean; $defs: Record<string, { type?: string; additionalProperties: unknown }> };
    expect(schema.additionalProperties).toBe(false);
    // Every object of the schema: closed, or (dlp.packages) a map whose values are closed.
    for (const def of Object.values(schema.$defs)) if (def.type === 'object') expect(def.additionalProperties).toBe(false);
    expect(parseConfigCode({ dlp: { packages: { x: { crad: 'redact' } } } })).toBe('CONFIG_INVALID');
    expect(parseConfigCode({ circuitBreaker: { cooldown: 1 } })).toBe('CONFIG_INVALID');
  });

  it('an absent config.json is exactly an empty one the schema accepts (so no file needs no schema check)', () => {
    expect(parseConfig({})).toEqual(defaultConfig());
    expect(parseConfig(undefined)).toEqual(defaultConfig());
  });

  it('accepts its own $schema reference (for editors)', () => {
    expect(parseConfig({ $schema: 'https://mcp-warden.dev/schemas/config.schema.json' })).toEqual(defaultConfig());
  });
});
