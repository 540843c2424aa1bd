import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as AjvModule from 'ajv/dist/2020.js';
import { describe, expect, it, vi } from 'vitest';
import { homeLayout } from '../../../host/home/home.ts';
import { loadPackage } from '../../../host/serve/loader.ts';
import { warmValidators } from '../../../host/serve/tool-validators.ts';
import { tempDir } from '../../helpers/host.ts';

function devPackage(tools: unknown[]): string {
  const dir = tempDir('warden-loader-');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.js'), 'export default {}');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'lazy-pkg', version: '1.0.0', mcpWarden: { manifestVersion: 1, entry: 'index.js', tools } }));
  return dir;
}

const options = () => ({
  home: homeLayout(tempDir('warden-loader-home-')),
  verify: async () => {
    throw new Error('only --dev packages are loaded here');
  },
});
const source = (dir: string) => ({ kind: 'dev' as const, dir, grantOverrides: { slots: {} } });
// The ajv the host's validators come from (host/serve/validation.ts requires the same module).
const { Ajv2020 } = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof AjvModule;

describe('loadPackage validators', () => {
  it('refuses at load a schema that is not a JSON Schema', async () => {
    const dir = devPackage([{ name: 't', description: 'd', inputSchema: { type: 'object', properties: { a: { type: 'no-such-type' } } } }]);
    await expect(loadPackage(source(dir), options())).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
  });

  describe('when a schema is valid but has not been compiled yet', () => {
    it('compiles it on first use and validates with it', async () => {
      const dir = devPackage([{ name: 't', description: 'd', inputSchema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } }]);
      const pkg = await loadPackage(source(dir), options());
      const validate = pkg.tools[0]!.validateInput;
      expect(validate({ n: 1 })).toBe(true);
      expect(validate({ n: 'x' })).toBe(false);
      expect(validate.errors?.[0]?.instancePath).toBe('/n');
    });

    it('compiles it without checking it against the meta-schema again (the load did)', async () => {
      const dir = devPackage([{ name: 't', description: 'd', inputSchema: { type: 'object', properties: { once: { type: 'string', maxLength: 7 } } } }]);
      const pkg = await loadPackage(source(dir), options());
      const check = vi.spyOn(Ajv2020.prototype, 'validateSchema');
      try {
        const validate = pkg.tools[0]!.validateInput;
        expect(validate({ once: 'x'.repeat(8) })).toBe(false);
        expect(validate({ once: 'x' })).toBe(true);
        expect(check).not.toHaveBeenCalled();
      } finally {
        check.mockRestore();
      }
    });

    it('reports a schema that fails to compile (a dangling $ref) as MANIFEST_INVALID when used', async () => {
      const dir = devPackage([{ name: 't', description: 'd', inputSchema: { type: 'object', properties: { a: { $ref: '#/$defs/missing' } } } }]);
      const pkg = await loadPackage(source(dir), options());
      expect(() => pkg.tools[0]!.validateInput({})).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
      // Warming in the background swallows it; the call that uses it reports it.
      await expect(warmValidators([pkg])).resolves.toBeUndefined();
    });
  });
});
