import { describe, expect, it } from 'vitest';
import { parsePackageManifest } from '../../host/manifest.ts';

const withSecrets = (secrets: unknown) => ({
  name: 'demo',
  version: '1.2.3',
  mcpWarden: {
    entry: 'index.js',
    tools: [{ name: 'hello', description: 'Says hello.', inputSchema: { type: 'object' } }],
    capabilities: { net: ['api.github.com'], secrets },
  },
});

function code(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (e) {
    return [(e as { code: string }).code, (e as Error).message];
  }
  return ['OK', ''];
}

describe('the manifest\'s secrets declaration', () => {
  it('accepts a header, a query parameter and basic auth binding, hosts in the net rule grammar', () => {
    const m = parsePackageManifest(
      withSecrets({
        GITHUB_TOKEN: { hosts: ['GET,POST api.github.com/repos/acme/'], header: { name: 'Authorization', format: 'Bearer {}' }, description: 'a fine-grained token' },
        MAPS_KEY: { hosts: ['maps.example.com'], query: 'key' },
        LEGACY_PW: { hosts: ['legacy.example.com'], basic: { username: 'bot' } },
      }),
    );
    expect(Object.keys(m.manifest.capabilities.secrets ?? {})).toEqual(['GITHUB_TOKEN', 'MAPS_KEY', 'LEGACY_PW']);
  });

  it('is absent when the manifest declares none', () => {
    const pkg = withSecrets(undefined);
    delete (pkg.mcpWarden.capabilities as { secrets?: unknown }).secrets;
    expect(parsePackageManifest(pkg).manifest.capabilities.secrets).toBeUndefined();
  });

  it.each([
    ['a lower-case name', { token: { hosts: ['a.example.com'], query: 'k' } }, /secrets/],
    ['no place', { TOKEN: { hosts: ['a.example.com'] } }, /secrets/],
    ['two places', { TOKEN: { hosts: ['a.example.com'], query: 'k', basic: {} } }, /secrets/],
    ['no host', { TOKEN: { hosts: [], query: 'k' } }, /secrets/],
    ['a host that is no net rule', { TOKEN: { hosts: ['ftp://a.example.com'], query: 'k' } }, /secrets\.TOKEN/],
    ['a format without {}', { TOKEN: { hosts: ['a.example.com'], header: { name: 'Authorization', format: 'Bearer x' } } }, /secrets\.TOKEN/],
    ['an unknown key', { TOKEN: { hosts: ['a.example.com'], query: 'k', sneaky: 1 } }, /sneaky/],
    ['a basic username with ":"', { TOKEN: { hosts: ['a.example.com'], basic: { username: 'a:b' } } }, /secrets\.TOKEN/],
  ])('refuses %s with MANIFEST_INVALID', (_what, secrets, message) => {
    const [c, msg] = code(() => parsePackageManifest(withSecrets(secrets)));
    expect(c).toBe('MANIFEST_INVALID');
    expect(msg).toMatch(message);
  });
});
