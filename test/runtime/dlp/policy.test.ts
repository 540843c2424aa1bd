import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DLP_POLICY, DETECTORS, dlpPolicyFor, parseDlpConfig } from '../../../runtime/dlp/index.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';
import { CONFIG_DEFS, configSectionSchema } from '../../helpers/config-schema.ts';

const schema = configSectionSchema('dlp');

describe('parseDlpConfig', () => {
  it('gives the defaults when the section is missing: keys, tokens, cards, SSNs, IBANs redacted; e-mail and phone off', () => {
    const config = parseDlpConfig(undefined);
    expect(config.defaults).toEqual(DEFAULT_DLP_POLICY);
    for (const d of DETECTORS) expect(config.defaults[d]).toBe(d === 'email' || d === 'phone' ? 'off' : 'redact');
  });

  it('applies global actions, then each package its own', () => {
    const config = parseDlpConfig({ detectors: { email: 'log' }, packages: { weather: { card: 'block' } } });
    expect(dlpPolicyFor(config, 'weather')).toMatchObject({ card: 'block', email: 'log', ssn: 'redact' });
    expect(dlpPolicyFor(config, 'other')).toMatchObject({ card: 'redact', email: 'log' });
  });

  it('does not take a package named like an Object.prototype key for an override', () => {
    expect(dlpPolicyFor(parseDlpConfig({}), 'toString')).toEqual(DEFAULT_DLP_POLICY);
  });

  it.each<[string, unknown]>([
    ['an unknown key', { detector: {} }],
    ['an unknown detector', { detectors: { visa: 'redact' } }],
    ['an unknown action', { detectors: { card: 'mask' } }],
    ['a package that is not an object', { packages: { a: 'block' } }],
    ['a section that is not an object', ['card']],
  ])('refuses %s with RULE_INVALID', async (_what, raw) => {
    expect(await asyncCodeOf(async () => parseDlpConfig(raw))).toBe('RULE_INVALID');
  });

  describe('the published schema (config.schema.json, section dlp) agrees with it', () => {
    const validate = new Ajv2020({ useDefaults: true, strict: true }).compile(schema);
    it.each<[unknown, boolean]>([
      [{}, true],
      [{ detectors: { card: 'block', email: 'log' }, packages: { weather: { jwt: 'off' } } }, true],
      [{ detectors: { visa: 'redact' } }, false],
      [{ detectors: { card: 'mask' } }, false],
      [{ extra: 1 }, false],
    ])('%j → %s', async (raw, ok) => {
      expect(validate(structuredClone(raw))).toBe(ok);
      expect((await asyncCodeOf(async () => parseDlpConfig(raw))) === '<no error>').toBe(ok);
    });
    it('lists every detector with its default', () => {
      const props = (CONFIG_DEFS as unknown as { dlpActions: { properties: Record<string, { default: string }> } }).dlpActions.properties;
      expect(Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.default]))).toEqual({ ...DEFAULT_DLP_POLICY });
    });
  });
});
