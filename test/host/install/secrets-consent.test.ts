import { describe, expect, it } from 'vitest';
import { installPackage } from '../../../host/install/install.ts';
import { describeSecrets, secretsWidened } from '../../../host/install/secrets-consent.ts';
import { readInstallSource } from '../../../host/install/source.ts';
import { parsePackageManifest } from '../../../host/manifest.ts';
import type { PackageManifest } from '../../../host/manifest.ts';
import { testHome } from '../../helpers/home-fixture.ts';
import type { TestHome } from '../../helpers/home-fixture.ts';
import { packEcho, signedWithKey, writeSigned } from '../../helpers/install-fixtures.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const TOKEN = { hosts: ['api.github.com'], header: { name: 'Authorization', format: 'Bearer {}' } };

function manifest(secrets: Record<string, unknown> | undefined): PackageManifest {
  return parsePackageManifest({
    name: 'gh',
    version: '1.0.0',
    mcpWarden: { entry: 'index.js', tools: [{ name: 'echo', description: 'x', inputSchema: { type: 'object' } }], capabilities: { net: [], ...(secrets ? { secrets } : {}) } },
  });
}

describe('secretsWidened', () => {
  it.each([
    ['the same bindings', { GITHUB_TOKEN: TOKEN }, { GITHUB_TOKEN: TOKEN }, []],
    ['a narrower host rule', { GITHUB_TOKEN: { ...TOKEN, hosts: ['*.github.com'] } }, { GITHUB_TOKEN: TOKEN }, []],
    ['a narrower path', { GITHUB_TOKEN: TOKEN }, { GITHUB_TOKEN: { ...TOKEN, hosts: ['api.github.com/repos/acme/'] } }, []],
    ['a new secret', { GITHUB_TOKEN: TOKEN }, { GITHUB_TOKEN: TOKEN, NPM_TOKEN: { hosts: ['registry.npmjs.org'], header: { name: 'Authorization' } } }, ['NPM_TOKEN → registry.npmjs.org']],
    ['another host', { GITHUB_TOKEN: TOKEN }, { GITHUB_TOKEN: { ...TOKEN, hosts: ['api.github.com', 'collect.evil.example'] } }, ['GITHUB_TOKEN → collect.evil.example']],
    ['a wider path', { GITHUB_TOKEN: { ...TOKEN, hosts: ['api.github.com/repos/acme/'] } }, { GITHUB_TOKEN: TOKEN }, ['GITHUB_TOKEN → api.github.com']],
    ['another place', { GITHUB_TOKEN: TOKEN }, { GITHUB_TOKEN: { hosts: ['api.github.com'], query: 'access_token' } }, ['GITHUB_TOKEN → api.github.com (query parameter access_token)']],
  ] as const)('%s → %j', (_what, before, after, expected) => {
    const got = secretsWidened(manifest(before), manifest(after));
    expect(got.length).toBe(expected.length);
    expected.forEach((e, i) => expect(got[i]).toContain(e));
  });

  it('counts every binding as new when the consented manifest cannot be read', () => {
    expect(secretsWidened(undefined, manifest({ GITHUB_TOKEN: TOKEN }))).toHaveLength(1);
  });

  it('shows an install every secret and where it goes', () => {
    expect(describeSecrets(manifest({ GITHUB_TOKEN: TOKEN }))).toMatch(/secret +GITHUB_TOKEN → api\.github\.com \(header authorization: Bearer \{\}\)/);
    expect(describeSecrets(manifest(undefined))).toBe('');
  });
});

describe('installing an update', () => {
  async function update(h: TestHome, secrets: Record<string, unknown>, ask?: (summary: string) => Promise<boolean>) {
    const tarball = await packEcho('gh', '1.1.0', { secrets });
    const file = writeSigned(tempDir('mcpw-upd-'), 'gh-1.1.0.tgz', tarball, signedWithKey(tarball, h.key.privateKey));
    return installPackage(h.home, await readInstallSource(file, undefined, '/'), { bindings: {}, yes: false, allowDowngrade: false, trustNewSigner: false, cwd: '/', ...(ask ? { ask } : {}) });
  }

  it('that keeps its secrets as they were needs no fresh consent', async () => {
    const h = await testHome();
    await h.install('gh', '1.0.0', { secrets: { GITHUB_TOKEN: TOKEN } });
    expect((await update(h, { GITHUB_TOKEN: TOKEN })).version).toBe('1.1.0');
  });

  it('that adds a secret or widens where one goes needs fresh consent (POLICY_ESCALATION without it), and the prompt shows it', async () => {
    const h = await testHome();
    await h.install('gh', '1.0.0', { secrets: { GITHUB_TOKEN: TOKEN } });
    const wider = { GITHUB_TOKEN: { ...TOKEN, hosts: ['api.github.com', 'collect.evil.example'] } };
    await expect(update(h, wider)).rejects.toMatchObject({ code: 'POLICY_ESCALATION' });
    let shown = '';
    await expect(
      update(h, wider, async (summary) => {
        shown = summary;
        return false;
      }),
    ).rejects.toMatchObject({ code: 'POLICY_ESCALATION' });
    expect(shown).toMatch(/\+ secret +GITHUB_TOKEN → collect\.evil\.example/);
  });
});
