import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PUBLIC_GOOD_TRUSTED_ROOT, loadTrustMaterial, trustMaterialFromJSON } from '../../../host/signing/trust-root.ts';
import { codeOf } from '../../helpers/codes.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const publicGood = (): Record<string, unknown> => JSON.parse(readFileSync(PUBLIC_GOOD_TRUSTED_ROOT, 'utf8')) as Record<string, unknown>;

describe('trusted roots', () => {
  it('loads the public-good root shipped in keys/ (offline)', () => {
    const m = loadTrustMaterial();
    expect(m.certificateAuthorities.length).toBeGreaterThan(0);
    expect(m.tlogs.map((t) => t.baseURL)).toContain('https://rekor.sigstore.dev');
    expect(loadTrustMaterial()).toBe(m); // loaded once
  });

  describe('when an authority has no validity start', () => {
    it.each(['certificateAuthorities', 'timestampAuthorities'])('refuses a root whose %s lack one', (group) => {
      const root = publicGood();
      for (const a of root[group] as { validFor?: { start?: string } }[]) delete a.validFor?.start;
      expect(codeOf(() => trustMaterialFromJSON(root))).toBe('TRUSTED_ROOT_INVALID');
    });

    it.each(['tlogs', 'ctlogs'])('refuses a root whose %s keys lack one', (group) => {
      const root = publicGood();
      const first = (root[group] as { publicKey: { validFor?: object } }[])[0];
      if (first) delete first.publicKey.validFor;
      expect(codeOf(() => trustMaterialFromJSON(root))).toBe('TRUSTED_ROOT_INVALID');
    });
  });

  it('refuses a file that is not a trusted root', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.json'), '{"mediaType":"application/json"}');
    writeFileSync(join(dir, 'garbage.json'), 'not json');
    expect(codeOf(() => loadTrustMaterial(join(dir, 'bad.json')))).toBe('TRUSTED_ROOT_INVALID');
    expect(codeOf(() => loadTrustMaterial(join(dir, 'garbage.json')))).toBe('TRUSTED_ROOT_INVALID');
    expect(codeOf(() => loadTrustMaterial(join(dir, 'missing.json')))).toBe('TRUSTED_ROOT_INVALID');
  });
});
