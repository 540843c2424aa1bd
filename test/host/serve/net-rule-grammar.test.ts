import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { homeLayout } from '../../../host/home/home.ts';
import { bindSlot, canonicalRule } from '../../../host/install/grant.ts';
import { loadPackage } from '../../../host/serve/loader.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';
import { tempDir } from '../../helpers/host.ts';

// The path/method rule grammar where the host meets it: a manifest's capabilities.net, a user's
// --allow-net, a host slot bound with --grant, and the canonical text lock.json stores and consent prints.

function devPackage(net: unknown[]): string {
  const dir = tempDir('warden-netrule-');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.js'), 'export default { t: async () => 1 }');
  const manifest = { manifestVersion: 1, entry: 'index.js', tools: [{ name: 't', description: 'd', inputSchema: { type: 'object' } }], capabilities: { net } };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'net-rule-pkg', version: '1.0.0', mcpWarden: manifest }));
  return dir;
}

const options = () => ({
  home: homeLayout(tempDir('warden-netrule-home-')),
  verify: async () => {
    throw new Error('only --dev packages are loaded here');
  },
});

describe('network rules with methods and paths in the host', () => {
  it('stores a rule in canonical form', () => {
    expect(canonicalRule('net', 'head,get https://API.GitHub.com/repos//acme')).toBe('GET,HEAD api.github.com/repos/acme/');
    expect(canonicalRule('net', 'https://api.github.com:443')).toBe('api.github.com');
  });

  it('binds a host slot to a path rule, and refuses a rule that could escape its prefix', async () => {
    const slot = { slot: 'api', kind: 'host' as const };
    await expect(bindSlot(slot, 'GET api.github.com/repos/acme/', '/', [])).resolves.toEqual({ slot: 'GET api.github.com/repos/acme/', net: 'GET api.github.com/repos/acme/' });
    expect(await asyncCodeOf(() => bindSlot(slot, 'GET api.github.com/repos/acme/../', '/', []))).toBe('GRANT_INVALID');
    expect(await asyncCodeOf(() => bindSlot(slot, 'GET api.github.com/repos/acme%2F', '/', []))).toBe('GRANT_INVALID');
  });

  it('the effective grant of a manifest rule and a user rule is never wider than either', async () => {
    const dir = devPackage(['GET,POST api.github.com/repos/', 'api.example.com']);
    const pkg = await loadPackage({ kind: 'dev', dir, grantOverrides: { slots: {}, net: ['GET,HEAD api.github.com/repos/acme/', 'DELETE api.example.com/v1/'] } }, options());
    expect(pkg.grantRules.net).toEqual(['GET api.github.com/repos/acme/', 'DELETE api.example.com/v1/']);
  });

  it('refuses a manifest rule with a dot segment (MANIFEST_INVALID) and a user rule with one (GRANT_INVALID)', async () => {
    expect(await asyncCodeOf(() => loadPackage({ kind: 'dev', dir: devPackage(['api.github.com/repos/acme/../']), grantOverrides: { slots: {} } }, options()))).toBe('MANIFEST_INVALID');
    expect(await asyncCodeOf(() => loadPackage({ kind: 'dev', dir: devPackage(['api.github.com']), grantOverrides: { slots: {}, net: ['api.github.com/%2e%2e/'] } }, options()))).toBe('GRANT_INVALID');
  });
});
