import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as keygen from '../../../host/commands/keygen.ts';
import * as packCmd from '../../../host/commands/pack.ts';
import * as sign from '../../../host/commands/sign.ts';
import * as verify from '../../../host/commands/verify.ts';
import { runCommandModule } from '../../helpers/run-command.ts';
import { TEST_ISSUER, startSigstoreStack, testIdentityToken } from '../../helpers/sigstore-stack.ts';
import type { SigstoreStack } from '../../helpers/sigstore-stack.ts';
import { tempDir, writeToolPackage } from '../../helpers/tool-package.ts';

let stack: SigstoreStack;
let work: string;
let tarball: string;

beforeAll(async () => {
  stack = await startSigstoreStack();
  work = tempDir();
  writeToolPackage(join(work, 'pkg'), '@acme/echo', '1.0.0');
  const r = await runCommandModule(packCmd, ['pkg', '--out', 'dist', '--json'], { cwd: work });
  expect(r.code).toBe(0);
  tarball = (JSON.parse(r.stdout) as { file: string }).file;
});

afterAll(async () => {
  await stack?.close();
});

describe('pack command', () => {
  it('prints the tarball and its integrity; twice gives the same integrity', async () => {
    const a = await runCommandModule(packCmd, ['pkg', '--out', 'again'], { cwd: work });
    expect(a.code).toBe(0);
    expect(a.stdout).toContain('@acme/echo@1.0.0');
    const integrity = /integrity: (sha512-\S+)/.exec(a.stdout)?.[1];
    expect(readFileSync(join(work, 'again', 'acme-echo-1.0.0.tgz')).equals(readFileSync(tarball))).toBe(true);
    expect(integrity).toMatch(/^sha512-/);
  });

  it('exits 2 on usage errors and 1 on a bad package', async () => {
    expect((await runCommandModule(packCmd, [], { cwd: work })).code).toBe(2);
    expect((await runCommandModule(packCmd, ['pkg', '--bogus'], { cwd: work })).code).toBe(2);
    const bad = await runCommandModule(packCmd, ['nowhere', '--json'], { cwd: work });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, error: { code: 'PACKAGE_INVALID' } });
  });
});

describe('keyed: keygen, sign --key, verify --key', () => {
  it('round trips through the commands', async () => {
    const kg = await runCommandModule(keygen, ['--out', 'acme', '--json'], { cwd: work });
    expect(kg.code).toBe(0);
    expect(statSync(join(work, 'acme.key')).mode & 0o777).toBe(0o600);
    const keyId = (JSON.parse(kg.stdout) as { keyId: string }).keyId;

    const s = await runCommandModule(sign, [tarball, '--key', 'acme.key'], { cwd: work });
    expect(s.code).toBe(0);
    expect(s.stdout).toContain(`key ${keyId}`);
    const bundle = JSON.parse(readFileSync(`${tarball}.sigstore.json`, 'utf8')) as { mediaType: string };
    expect(bundle.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');

    const v = await runCommandModule(verify, [tarball, '--key', 'acme.pub', '--json'], { cwd: work });
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, signer: { kind: 'key', keyId }, package: { name: '@acme/echo', version: '1.0.0' } });

    const other = await runCommandModule(keygen, ['--out', 'other'], { cwd: work });
    expect(other.code).toBe(0);
    const wrong = await runCommandModule(verify, [tarball, '--key', 'other.pub', '--json'], { cwd: work });
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, error: { code: 'UNTRUSTED_SIGNER' } });
  });

  it('signs with an encrypted key given its passphrase in the environment', async () => {
    const env = { MCP_WARDEN_KEY_PASSPHRASE: 'hunter2hunter2' };
    expect((await runCommandModule(keygen, ['--out', 'enc'], { cwd: work, env })).code).toBe(0);
    expect(readFileSync(join(work, 'enc.key'), 'utf8')).toContain('ENCRYPTED');
    const copy = join(work, 'enc-echo.tgz');
    writeFileSync(copy, readFileSync(tarball));
    const noPass = await runCommandModule(sign, [copy, '--key', 'enc.key', '--json'], { cwd: work });
    expect(JSON.parse(noPass.stdout)).toMatchObject({ error: { code: 'KEY_INVALID' } });
    expect((await runCommandModule(sign, [copy, '--key', 'enc.key'], { cwd: work, env })).code).toBe(0);
    expect((await runCommandModule(verify, [copy, '--key', 'enc.pub'], { cwd: work })).code).toBe(0);
  });
});

describe('keyless: sign --keyless against the local Sigstore stack, verify --certificate-identity', () => {
  let keylessTarball: string;

  beforeAll(async () => {
    keylessTarball = join(work, 'keyless-echo.tgz');
    writeFileSync(keylessTarball, readFileSync(tarball));
    const s = await runCommandModule(
      sign,
      [keylessTarball, '--keyless', '--fulcio-url', stack.url, '--rekor-url', stack.url, '--tsa-url', stack.url],
      { cwd: work, env: { SIGSTORE_ID_TOKEN: testIdentityToken('user@example.com') } },
    );
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('identity user@example.com');
  });

  it('verifies the exact identity and issuer against the given trusted root', async () => {
    const v = await runCommandModule(verify, [keylessTarball, '--certificate-identity', 'user@example.com', '--certificate-oidc-issuer', TEST_ISSUER, '--trusted-root', stack.trustedRootFile], { cwd: work });
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('Verified OK');
    expect(v.stdout).toContain('package:   @acme/echo@1.0.0');
  });

  it.each([
    ['a suffix of the identity', ['--certificate-identity', 'ser@example.com', '--certificate-oidc-issuer', TEST_ISSUER], 'IDENTITY_MISMATCH'],
    ['another issuer', ['--certificate-identity', 'user@example.com', '--certificate-oidc-issuer', 'https://evil.example'], 'ISSUER_MISMATCH'],
    ['an unanchored-looking regexp', ['--certificate-identity-regexp', 'ser@example', '--certificate-oidc-issuer', TEST_ISSUER], 'IDENTITY_MISMATCH'],
  ])('refuses %s with exit 1', async (_what, flags, code) => {
    const v = await runCommandModule(verify, [keylessTarball, ...flags, '--trusted-root', stack.trustedRootFile, '--json'], { cwd: work });
    expect(v.code).toBe(1);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: false, error: { code } });
  });

  it('refuses against the public-good root (the certificate does not chain to it)', async () => {
    const v = await runCommandModule(verify, [keylessTarball, '--certificate-identity', 'user@example.com', '--certificate-oidc-issuer', TEST_ISSUER, '--json'], { cwd: work });
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: false, error: { code: 'SIGNATURE_INVALID' } });
  });

  it('takes the identity token from GitHub Actions variables', async () => {
    const gha = join(work, 'gha-echo.tgz');
    writeFileSync(gha, readFileSync(tarball));
    const { createServer } = await import('node:http');
    let asked = '';
    const server = createServer((req, res) => {
      asked = `${req.url ?? ''} ${req.headers.authorization ?? ''}`;
      res.end(JSON.stringify({ value: testIdentityToken('https://github.com/acme/echo/.github/workflows/release.yml@refs/heads/main', 'https://token.actions.githubusercontent.com') }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const env = { ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-secret' };
      const s = await runCommandModule(sign, [gha, '--keyless', '--fulcio-url', stack.url, '--rekor-url', stack.url], { cwd: work, env });
      expect(s.code).toBe(0);
      expect(asked).toContain('audience=sigstore');
      expect(asked).toContain('Bearer runner-secret');
      const v = await runCommandModule(verify, [gha, '--certificate-identity', 'https://github.com/acme/echo/.github/workflows/release.yml@refs/heads/main', '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com', '--trusted-root', stack.trustedRootFile], { cwd: work });
      expect(v.code).toBe(0);
    } finally {
      server.close();
    }
  });

  it('fails keyless signing without any identity token (exit 1, SIGNING_FAILED)', async () => {
    const s = await runCommandModule(sign, [keylessTarball, '--keyless', '--fulcio-url', stack.url, '--rekor-url', stack.url, '--bundle', join(work, 'x.json'), '--json'], { cwd: work });
    expect(s.code).toBe(1);
    expect(JSON.parse(s.stdout)).toMatchObject({ error: { code: 'SIGNING_FAILED' } });
  });
});

describe('usage errors exit 2', () => {
  it.each([
    [sign, ['x.tgz']],
    [sign, ['x.tgz', '--key', 'a.key', '--keyless']],
    [sign, ['x.tgz', '--keyless', '--rekor-version', '2']],
    [verify, ['x.tgz']],
    [verify, ['x.tgz', '--key', 'a.pub', '--certificate-identity', 'u']],
    [verify, ['x.tgz', '--certificate-identity', 'u']],
    [verify, ['x.tgz', '--certificate-identity-regexp', '(', '--certificate-oidc-issuer', 'i']],
    [verify, ['missing.tgz', '--certificate-identity', 'u', '--certificate-oidc-issuer', 'i']],
    [keygen, []],
  ] as const)('%#', async (mod, argv) => {
    const r = await runCommandModule(mod, [...argv], { cwd: tempDir() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('USAGE');
  });

  it('prints --help with exit 0', async () => {
    for (const mod of [sign, verify, keygen, packCmd]) {
      const r = await runCommandModule(mod, ['--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: mcp-warden /);
    }
  });
});
