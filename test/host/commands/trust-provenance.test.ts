import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as install from '../../../host/commands/install.ts';
import { homeLayout, readLock } from '../../../host/home/home.ts';
import type { LockEntry } from '../../../host/home/home.ts';
import { verifyInstalled } from '../../../host/home/verify-installed.ts';
import * as trust from '../../../host/commands/trust.ts';
import { signKeyless } from '../../../host/signing/sign.ts';
import { packToBuffer } from '../../../host/pack/pack.ts';
import { verifyNpmAttestations } from '../../../host/provenance/verify.ts';
import { PUBLIC_GOOD_TRUSTED_ROOT, loadHomeTrustMaterial, loadTrustMaterial } from '../../../host/signing/trust-root.ts';
import { findProvenancePublisher, loadTrustPolicy, parsePublisher, saveTrustPolicy } from '../../../host/trust/policy.ts';
import { packEcho, writeSigned } from '../../helpers/install-fixtures.ts';
import { asyncCodeOf, codeOf, errorOf } from '../../helpers/codes.ts';
import { makeNpmAttestations } from '../../helpers/npm-attestations.ts';
import { runCommandModule } from '../../helpers/run-command.ts';
import { TEST_ISSUER, startSigstoreStack, testIdentityToken } from '../../helpers/sigstore-stack.ts';
import type { SigstoreStack } from '../../helpers/sigstore-stack.ts';
import { tempDir, writeToolPackage } from '../../helpers/tool-package.ts';

const GH = 'https://token.actions.githubusercontent.com';

async function json(argv: string[], cwd?: string): Promise<{ code: number; out: Record<string, unknown> }> {
  const r = await runCommandModule(trust, [...argv, '--json'], cwd ? { cwd } : {});
  return { code: r.code, out: JSON.parse(r.stdout) as Record<string, unknown> };
}

describe('trust add-provenance', () => {
  it('trusts a repository, workflow and ref glob for a scope, with GitHub Actions as the default issuer', async () => {
    const home = join(tempDir(), 'h');
    const r = await runCommandModule(trust, ['add-provenance', '--repo', 'github.com/acme/weather-tool', '--workflow', '.github/workflows/release.yml', '--ref', 'refs/tags/*', '--scope', '@acme/*', '--home', home]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('github.com/acme/weather-tool: provenance github.com/acme/weather-tool, workflow .github/workflows/release.yml, ref refs/tags/*');
    const policy = await loadTrustPolicy(join(home, 'trust.json'));
    expect(policy.publishers).toEqual([
      { name: 'github.com/acme/weather-tool', kind: 'provenance', repository: 'github.com/acme/weather-tool', workflow: '.github/workflows/release.yml', ref: 'refs/tags/*', issuer: GH, scope: ['@acme/*'] },
    ]);
    expect(findProvenancePublisher(policy, { issuer: GH, repository: 'github.com/acme/weather-tool', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v2.0.0' }, '@acme/weather-tool').trusted).toBe(true);
    expect(statSync(join(home, 'trust.json')).mode & 0o777).toBe(0o600);
  });

  it('takes --issuer and --name, and lists the publisher', async () => {
    const home = join(tempDir(), 'h');
    expect((await json(['add-provenance', '--repo', 'https://gitlab.com/acme/tool', '--issuer', 'https://gitlab.com', '--name', 'acme-gitlab', '--home', home])).code).toBe(0);
    const list = await json(['list', '--home', home]);
    expect(list.out.publishers).toEqual([{ name: 'acme-gitlab', kind: 'provenance', repository: 'gitlab.com/acme/tool', issuer: 'https://gitlab.com' }]);
  });

  it('refuses the same source twice (TRUST_INVALID), trust.json unchanged', async () => {
    const home = join(tempDir(), 'h');
    const args = ['add-provenance', '--repo', 'github.com/acme/weather-tool', '--workflow', '.github/workflows/release.yml', '--home', home];
    expect((await json([...args, '--name', 'one'])).code).toBe(0);
    const before = readFileSync(join(home, 'trust.json'), 'utf8');
    expect(await json([...args, '--name', 'two'])).toMatchObject({ code: 1, out: { error: { code: 'TRUST_INVALID' } } });
    expect(readFileSync(join(home, 'trust.json'), 'utf8')).toBe(before);
  });

  it.each([
    [['add-provenance']],
    [['add-provenance', '--repo', 'github.com/acme/*']],
    [['add-provenance', '--repo', 'acme/weather-tool']],
    [['add-provenance', '--repo', 'github.com/acme/x', '--ref', 'main']],
    [['add-provenance', '--repo', 'github.com/acme/x', '--workflow', '../release.yml']],
    [['add-provenance', '--repo', 'github.com/acme/x', '--issuer', 'http://insecure.example']],
    [['add-provenance', '--repo', 'github.com/acme/x', '--certificate-identity', 'u']],
    [['add-identity', '--certificate-identity', 'u', '--certificate-oidc-issuer', 'https://i.example', '--repo', 'github.com/acme/x']],
  ])('exits 2 on %j (USAGE), nothing written', async (argv) => {
    const home = join(tempDir(), 'h');
    expect(await json([...argv, '--home', home])).toMatchObject({ code: 2, out: { error: { code: 'USAGE' } } });
    expect(() => statSync(join(home, 'trust.json'))).toThrow();
  });
});

describe('trust refresh-root --from, and the home\'s trusted root', () => {
  let stack: SigstoreStack;
  beforeAll(async () => {
    stack = await startSigstoreStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('installs a trusted root file (0600) that install and serve then use instead of the shipped one', async () => {
    const home = join(tempDir(), 'h');
    const name = '@acme/weather-tool';
    const tarball = (await packToBuffer(writeToolPackage(tempDir(), name, '1.0.0'))).data;
    const a = await makeNpmAttestations(stack, { name, version: '1.0.0', tarball });
    const verify = async (): Promise<string> => {
      const trustMaterial = await loadHomeTrustMaterial(home);
      return codeOf(() => verifyNpmAttestations({ name, version: '1.0.0', integrity: a.integrity, attestations: a.attestations, registryKeys: a.keys, trustMaterial }));
    };
    // Before: the public-good root does not know the local stack's CA.
    expect(await loadHomeTrustMaterial(home)).toBe(loadTrustMaterial(PUBLIC_GOOD_TRUSTED_ROOT));
    expect(await verify()).toBe('PROVENANCE_INVALID');

    const r = await json(['refresh-root', '--from', stack.trustedRootFile, '--home', home]);
    expect(r).toMatchObject({ code: 0, out: { ok: true, source: 'file', certificateAuthorities: 1, tlogs: 1, ctlogs: 1, timestampAuthorities: 1 } });
    const file = join(home, 'trusted_root.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(stack.trustedRoot);
    expect(await verify()).toBe('<no error>');
  });

  it('is the root "install" verifies a keyless tarball against, without --trusted-root', async () => {
    const work = tempDir();
    const home = join(work, 'h');
    await saveTrustPolicy(join(home, 'trust.json'), { publishers: [parsePublisher({ name: 'user', kind: 'identity', identity: 'user@example.com', issuer: TEST_ISSUER })] });
    const tarball = await packEcho('@acme/echo', '1.0.0');
    const bundle = await signKeyless(tarball, { identityToken: testIdentityToken('user@example.com'), fulcioURL: stack.url, rekorURL: stack.url });
    const file = writeSigned(work, 'echo-1.0.0.tgz', tarball, bundle);
    const installIt = async (): Promise<Record<string, unknown>> => JSON.parse((await runCommandModule(install, [file, '--yes', '--home', home, '--json'], { cwd: work })).stdout) as Record<string, unknown>;
    // The shipped public-good root does not know the local stack.
    expect(await installIt()).toMatchObject({ ok: false, error: { code: 'SIGNATURE_INVALID' } });
    expect((await json(['refresh-root', '--from', stack.trustedRootFile, '--home', home])).code).toBe(0);
    expect(await installIt()).toMatchObject({ ok: true, version: '1.0.0' });
    // Serve's re-verification of the kept signed copy (when a record's seal cannot be checked) uses it too:
    // the copy verifies, so the refusal is about the record, not the signature.
    rmSync(join(home, 'lock.key'));
    const layout = homeLayout(home);
    const entry = (await readLock(layout)).packages['@acme/echo'] as LockEntry;
    const refusal = await errorOf(() => verifyInstalled({ name: '@acme/echo', ...entry }, layout));
    expect(refusal.code).toBe('INTEGRITY_MISMATCH');
    expect(refusal.message).toContain('changed outside mcp-warden');
  });

  describe('refuses a root that would not load, and keeps the one in place', () => {
    it.each([
      ['not JSON', 'not json'],
      ['another media type', JSON.stringify({ mediaType: 'application/json' })],
      ['an authority without a validity start', 'no-start'],
    ])('%s (TRUSTED_ROOT_INVALID)', async (_what, content) => {
      const work = tempDir();
      const home = join(work, 'h');
      expect((await json(['refresh-root', '--from', stack.trustedRootFile, '--home', home])).code).toBe(0);
      const before = readFileSync(join(home, 'trusted_root.json'), 'utf8');
      let text = content;
      if (content === 'no-start') {
        const root = structuredClone(stack.trustedRoot) as { certificateAuthorities: { validFor?: object }[] };
        for (const ca of root.certificateAuthorities) delete ca.validFor;
        text = JSON.stringify(root);
      }
      writeFileSync(join(work, 'bad.json'), text);
      expect(await json(['refresh-root', '--from', 'bad.json', '--home', home], work)).toMatchObject({ code: 1, out: { error: { code: 'TRUSTED_ROOT_INVALID' } } });
      expect(readFileSync(join(home, 'trusted_root.json'), 'utf8')).toBe(before);
    });
  });

  it('refuses a home trusted root others can write (HOME_UNSAFE)', async () => {
    const home = join(tempDir(), 'h');
    expect((await json(['refresh-root', '--from', stack.trustedRootFile, '--home', home])).code).toBe(0);
    chmodSync(join(home, 'trusted_root.json'), 0o666);
    expect(await asyncCodeOf(() => loadHomeTrustMaterial(home))).toBe('HOME_UNSAFE');
  });

  it('refuses a damaged home trusted root rather than falling back to the shipped one (TRUSTED_ROOT_INVALID)', async () => {
    const home = join(tempDir(), 'h');
    mkdirSync(home, { mode: 0o700 });
    writeFileSync(join(home, 'trusted_root.json'), '{', { mode: 0o600 });
    expect(await asyncCodeOf(() => loadHomeTrustMaterial(home))).toBe('TRUSTED_ROOT_INVALID');
  });

  it.each([
    [['refresh-root', '--from', 'x.json', '--mirror', 'https://tuf.example']],
    [['refresh-root', 'extra']],
    [['refresh-root', '--name', 'x']],
    [['list', '--from', 'x.json']],
  ])('exits 2 on %j (USAGE)', async (argv) => {
    expect(await json([...argv, '--home', join(tempDir(), 'h')])).toMatchObject({ code: 2, out: { error: { code: 'USAGE' } } });
  });
});
