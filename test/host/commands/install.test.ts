/**
 * Refusals of `mcp-warden install`, each with its own code, and nothing in the home installed or changed
 * (lock.json and every file under packages/ compared before and after). The command runs in-process with
 * real signatures: keyed with generated keys, keyless against the local Sigstore stack.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as install from '../../../host/commands/install.ts';
import { publicKeyPem } from '../../../host/signing/keys.ts';
import { signKeyless } from '../../../host/signing/sign.ts';
import { parsePublisher, saveTrustPolicy } from '../../../host/trust/policy.ts';
import { packEcho, rawTarball, signAnything, signedWithKey, snapshotHome, writeSigned } from '../../helpers/install-fixtures.ts';
import { runCommandModule } from '../../helpers/run-command.ts';
import { TEST_ISSUER, startSigstoreStack, testIdentityToken } from '../../helpers/sigstore-stack.ts';
import type { SigstoreStack } from '../../helpers/sigstore-stack.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const acme = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const acme2 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let stack: SigstoreStack;
let work: string;
let home: string;

async function run(args: string[]): Promise<{ code: number; json: { ok: boolean; error?: { code: string; message: string } } & Record<string, unknown> }> {
  const r = await runCommandModule(install, [...args, '--home', home, '--trusted-root', stack.trustedRootFile, '--json'], { cwd: work });
  return { code: r.code, json: JSON.parse(r.stdout) as never };
}

const keyless = (tarball: Buffer, sub: string, iss = TEST_ISSUER): Promise<unknown> =>
  signKeyless(tarball, { identityToken: testIdentityToken(sub, iss), fulcioURL: stack.url, rekorURL: stack.url });

beforeAll(async () => {
  stack = await startSigstoreStack();
  work = tempDir('mcpw-install-');
  home = join(work, 'home');
  await saveTrustPolicy(join(home, 'trust.json'), {
    publishers: [
      parsePublisher({ name: 'acme', kind: 'key', publicKeyPem: publicKeyPem(acme.publicKey), scope: ['@acme/*'] }),
      parsePublisher({ name: 'acme2', kind: 'key', publicKeyPem: publicKeyPem(acme2.publicKey), scope: ['@acme/*'] }),
      parsePublisher({ name: 'user', kind: 'identity', identity: 'user@example.com', issuer: TEST_ISSUER, scope: ['@acme/*'] }),
    ],
  });
  // Installed first, so "nothing changed" also covers an existing installation.
  const v1 = await packEcho('@acme/echo', '1.0.0');
  const installed = await run([writeSigned(work, 'echo-1.0.0.tgz', v1, signedWithKey(v1, acme.privateKey)), '--yes']);
  expect(installed.json).toMatchObject({ ok: true, version: '1.0.0' });
});

afterAll(async () => {
  await stack?.close();
});

/** Runs install and expects exit 1 with `code`, and the home exactly as before. */
async function expectRefused(args: string[], code: string): Promise<string> {
  const before = snapshotHome(home);
  const r = await run(args);
  expect(r.json.error?.code).toBe(code);
  expect(r.code).toBe(1);
  expect(snapshotHome(home)).toEqual(before);
  return r.json.error?.message ?? '';
}

describe('install refuses, changing nothing', () => {
  it('a tarball changed after signing (INTEGRITY_MISMATCH)', async () => {
    const signed = await packEcho('@acme/echo', '1.1.0');
    const bundle = signedWithKey(signed, acme.privateKey);
    const tampered = await packEcho('@acme/echo', '1.1.0', { code: 'export default { echo: () => "backdoor" };\n' });
    await expectRefused([writeSigned(work, 'tampered.tgz', tampered, bundle), '--yes'], 'INTEGRITY_MISMATCH');
  });

  it('the bundle of another artifact (SUBJECT_MISMATCH)', async () => {
    const other = await packEcho('@acme/other', '1.0.0');
    const echo = await packEcho('@acme/echo', '1.1.0');
    const path = writeSigned(work, 'other-bundle.tgz', echo, signedWithKey(other, acme.privateKey));
    await expectRefused([path, '--yes'], 'SUBJECT_MISMATCH');
  });

  it('a statement for another version of the same package (SUBJECT_MISMATCH)', async () => {
    const v12 = await packEcho('@acme/echo', '1.2.0');
    const v13 = await packEcho('@acme/echo', '1.3.0');
    await expectRefused([writeSigned(work, 'replayed.tgz', v13, signedWithKey(v12, acme.privateKey)), '--yes'], 'SUBJECT_MISMATCH');
  });

  it('a key that is not trusted (UNTRUSTED_SIGNER)', async () => {
    const t = await packEcho('@acme/echo', '1.1.0');
    await expectRefused([writeSigned(work, 'stranger.tgz', t, signedWithKey(t, stranger.privateKey)), '--yes'], 'UNTRUSTED_SIGNER');
  });

  it('a trusted key signing outside its scope (SIGNER_OUT_OF_SCOPE)', async () => {
    const t = await packEcho('@evil/echo', '1.0.0');
    await expectRefused([writeSigned(work, 'scope.tgz', t, signedWithKey(t, acme.privateKey)), '--yes'], 'SIGNER_OUT_OF_SCOPE');
  });

  it('a keyless signer with another identity (IDENTITY_MISMATCH)', async () => {
    const t = await packEcho('@acme/echo', '1.1.0');
    await expectRefused([writeSigned(work, 'other-id.tgz', t, await keyless(t, 'mallory@example.com')), '--yes'], 'IDENTITY_MISMATCH');
  });

  it('evil-user@example.com where user@example.com is trusted: exact, not unanchored (IDENTITY_MISMATCH)', async () => {
    const t = await packEcho('@acme/echo', '1.1.0');
    const msg = await expectRefused([writeSigned(work, 'evil-user.tgz', t, await keyless(t, 'evil-user@example.com')), '--yes'], 'IDENTITY_MISMATCH');
    expect(msg).toContain('evil-user@example.com');
  });

  it('the trusted identity issued by another OIDC provider (ISSUER_MISMATCH)', async () => {
    const t = await packEcho('@acme/echo', '1.1.0');
    await expectRefused([writeSigned(work, 'issuer.tgz', t, await keyless(t, 'user@example.com', 'https://accounts.evil.example')), '--yes'], 'ISSUER_MISMATCH');
  });

  it('a keyless bundle without a transparency-log entry (TLOG_MISSING)', async () => {
    const t = await packEcho('@acme/echo', '1.1.0');
    const bundle = (await keyless(t, 'user@example.com')) as { verificationMaterial: { tlogEntries: unknown[] } };
    bundle.verificationMaterial.tlogEntries = [];
    await expectRefused([writeSigned(work, 'no-tlog.tgz', t, bundle), '--yes'], 'TLOG_MISSING');
  });

  it('a lower version than the installed one (VERSION_DOWNGRADE), unless --allow-downgrade', async () => {
    const t = await packEcho('@acme/echo', '0.9.0');
    const path = writeSigned(work, 'old.tgz', t, signedWithKey(t, acme.privateKey));
    await expectRefused([path, '--yes'], 'VERSION_DOWNGRADE');
  });

  it('an update from another trusted signer than the installed one (SIGNER_CHANGED)', async () => {
    const t = await packEcho('@acme/echo', '1.1.0');
    await expectRefused([writeSigned(work, 'acme2.tgz', t, signedWithKey(t, acme2.privateKey)), '--yes'], 'SIGNER_CHANGED');
  });

  it('an update asking for new capabilities without fresh consent (POLICY_ESCALATION)', async () => {
    const t = await packEcho('@acme/echo', '1.1.0', { net: ['api.example.com'] });
    const msg = await expectRefused([writeSigned(work, 'escalate.tgz', t, signedWithKey(t, acme.privateKey))], 'POLICY_ESCALATION');
    expect(msg).toContain('1.0.0');
  });

  it('the same version with other contents (VERSION_CONFLICT)', async () => {
    const t = await packEcho('@acme/echo', '1.0.0', { code: 'export default { echo: () => "changed" };\n' });
    await expectRefused([writeSigned(work, 'same-version.tgz', t, signedWithKey(t, acme.privateKey)), '--yes'], 'VERSION_CONFLICT');
  });

  it('a new package without consent: no terminal and no --yes (CONSENT_REQUIRED)', async () => {
    const t = await packEcho('@acme/fresh', '1.0.0');
    await expectRefused([writeSigned(work, 'fresh.tgz', t, signedWithKey(t, acme.privateKey))], 'CONSENT_REQUIRED');
  });

  it('a manifest whose entry file is not in the tarball (PACKAGE_INVALID)', async () => {
    const manifest = { name: '@acme/noentry', version: '1.0.0', mcpWarden: { entry: 'dist/index.js', tools: [{ name: 't', description: 'd', inputSchema: { type: 'object' } }] } };
    const t = rawTarball([{ path: 'package/package.json', data: JSON.stringify(manifest) }]);
    await expectRefused([writeSigned(work, 'noentry.tgz', t, signAnything(t, '@acme/noentry', '1.0.0', acme.privateKey)), '--yes'], 'PACKAGE_INVALID');
  });

  const manifest = JSON.stringify({ name: '@acme/evil', version: '1.0.0', mcpWarden: { entry: 'index.js', tools: [{ name: 't', description: 'd', inputSchema: { type: 'object' } }] } });
  it.each([
    ['an absolute path', [{ path: '/tmp/mcpw-pwned.js', data: 'x' }]],
    ['a ".." path', [{ path: 'package/../../mcpw-pwned.js', data: 'x' }]],
    ['a symlink', [{ path: 'package/link', type: '2' }]],
    ['a hard link', [{ path: 'package/hard', type: '1' }]],
  ])('a tarball with %s, even validly signed (TARBALL_INVALID)', async (_what, bad) => {
    const t = rawTarball([{ path: 'package/package.json', data: manifest }, { path: 'package/index.js', data: 'export default {};' }, ...bad]);
    await expectRefused([writeSigned(work, 'evil.tgz', t, signAnything(t, '@acme/evil', '1.0.0', acme.privateKey)), '--yes'], 'TARBALL_INVALID');
  });

  it('a truncated tarball (TARBALL_INVALID)', async () => {
    const t = await packEcho('@acme/echo', '1.1.0');
    const path = writeSigned(work, 'truncated.tgz', t, signedWithKey(t, acme.privateKey));
    truncateSync(path, Math.floor(t.length / 2));
    await expectRefused([path, '--yes'], 'TARBALL_INVALID');
  });

  it('an oversized tarball, before reading it (TARBALL_INVALID)', async () => {
    const path = join(work, 'huge.tgz');
    writeFileSync(path, Buffer.alloc(1));
    truncateSync(path, 33 * 1024 * 1024);
    writeFileSync(`${path}.sigstore.json`, readFileSync(join(work, 'echo-1.0.0.tgz.sigstore.json')));
    const msg = await expectRefused([path, '--yes'], 'TARBALL_INVALID');
    expect(msg).toMatch(/larger than/);
  });

  it('no bundle at all (BUNDLE_INVALID)', async () => {
    const t = await packEcho('@acme/echo', '1.1.0');
    const path = join(work, 'unsigned.tgz');
    writeFileSync(path, t);
    await expectRefused([path, '--yes'], 'BUNDLE_INVALID');
  });
});

describe('install usage', () => {
  it('exits 2 on usage errors', async () => {
    expect((await runCommandModule(install, [], { cwd: work })).code).toBe(2);
    expect((await runCommandModule(install, ['x.tgz', '--grant', 'bad'], { cwd: work })).code).toBe(2);
    expect((await runCommandModule(install, ['http://example.com/x.tgz'], { cwd: work })).code).toBe(2);
    expect((await runCommandModule(install, ['--help'], { cwd: work })).stdout).toContain('Usage: mcp-warden install');
  });
});
