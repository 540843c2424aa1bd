import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as keygen from '../../../host/commands/keygen.ts';
import * as trust from '../../../host/commands/trust.ts';
import { loadTrustPolicy } from '../../../host/trust/policy.ts';
import { runCommandModule } from '../../helpers/run-command.ts';
import { tempDir } from '../../helpers/tool-package.ts';

describe('trust command', () => {
  it('adds a key and an identity, lists and removes them, in the --home trust.json', async () => {
    const work = tempDir();
    const home = join(work, 'home');
    expect((await runCommandModule(keygen, ['--out', 'acme'], { cwd: work })).code).toBe(0);

    const addKey = await runCommandModule(trust, ['add-key', 'acme.pub', '--name', 'acme', '--scope', '@acme/*', '--home', home], { cwd: work });
    expect(addKey.code).toBe(0);
    expect(addKey.stdout).toContain('acme: key ');
    const wf = 'https://github.com/acme/tools/.github/workflows/release.yml@refs/heads/main';
    const addId = await runCommandModule(trust, ['add-identity', '--certificate-identity', wf, '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com', '--home', home], { cwd: work });
    expect(addId.code).toBe(0);
    expect(statSync(join(home, 'trust.json')).mode & 0o777).toBe(0o600);

    const list = await runCommandModule(trust, ['list', '--json', '--home', home], { cwd: work });
    const listed = JSON.parse(list.stdout) as { publishers: { name: string; kind: string; scope?: string[] }[] };
    expect(listed.publishers.map((p) => [p.name, p.kind, p.scope])).toEqual([
      ['acme', 'key', ['@acme/*']],
      [wf, 'identity', undefined],
    ]);

    expect((await runCommandModule(trust, ['remove', 'acme', '--home', home], { cwd: work })).code).toBe(0);
    expect((await loadTrustPolicy(join(home, 'trust.json'))).publishers.map((p) => p.name)).toEqual([wf]);
    expect(readFileSync(join(home, 'trust.json'), 'utf8')).not.toContain('acme.pub');
  });

  it('uses MCP_WARDEN_HOME when --home is not given', async () => {
    const home = join(tempDir(), 'h');
    const r = await runCommandModule(trust, ['add-identity', '--name', 'u', '--certificate-identity', 'u@example.com', '--certificate-oidc-issuer', 'https://i.example'], { env: { MCP_WARDEN_HOME: home } });
    expect(r.code).toBe(0);
    expect((await loadTrustPolicy(join(home, 'trust.json'))).publishers).toHaveLength(1);
  });

  it.each([
    [['add-key', '--name', 'x']],
    [['add-identity', '--certificate-identity', 'u']],
    [['add-identity', '--certificate-identity', 'u', '--certificate-oidc-issuer', 'i', '--scope', '*']],
    [['add-identity', '--certificate-identity', 'u', '--certificate-oidc-issuer', 'i', '--scope', '@acme/ech*']],
    [['remove', 'nobody']],
    [['frobnicate']],
    [[]],
  ])('exits 2 on %j', async (argv) => {
    const r = await runCommandModule(trust, [...argv, '--home', join(tempDir(), 'h')]);
    expect(r.code).toBe(2);
  });

  it('refuses a key that is not P-256 with exit 1 (KEY_INVALID)', async () => {
    const work = tempDir();
    const { generateKeyPairSync } = await import('node:crypto');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(work, 'rsa.pub'), generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }));
    const r = await runCommandModule(trust, ['add-key', 'rsa.pub', '--name', 'r', '--home', join(work, 'h'), '--json'], { cwd: work });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'KEY_INVALID' } });
  });

  describe('add refuses what must never be trusted (issue 8, item 30)', () => {
    async function addKey(work: string, file: string, name: string): Promise<{ code: number; error?: { code: string; message: string } }> {
      const r = await runCommandModule(trust, ['add-key', file, '--name', name, '--home', join(work, 'h'), '--json'], { cwd: work });
      return { code: r.code, error: (JSON.parse(r.stdout) as { error?: { code: string; message: string } }).error };
    }

    it('a key that is already trusted under another name (TRUST_INVALID), trust.json unchanged', async () => {
      const work = tempDir();
      expect((await runCommandModule(keygen, ['--out', 'acme'], { cwd: work })).code).toBe(0);
      expect((await addKey(work, 'acme.pub', 'acme')).code).toBe(0);
      const before = readFileSync(join(work, 'h', 'trust.json'), 'utf8');
      const again = await addKey(work, 'acme.pub', 'acme-again');
      expect(again).toMatchObject({ code: 1, error: { code: 'TRUST_INVALID' } });
      expect(again.error?.message).toContain('acme');
      expect(readFileSync(join(work, 'h', 'trust.json'), 'utf8')).toBe(before);
    });

    it('the same identity and issuer twice (TRUST_INVALID)', async () => {
      const home = join(tempDir(), 'h');
      const args = ['add-identity', '--certificate-identity', 'u@example.com', '--certificate-oidc-issuer', 'https://i.example', '--home', home, '--json'];
      expect((await runCommandModule(trust, [...args, '--name', 'one'])).code).toBe(0);
      const r = await runCommandModule(trust, [...args, '--name', 'two']);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'TRUST_INVALID' } });
    });

    it('a private key given instead of the public one (KEY_INVALID), nothing written', async () => {
      const work = tempDir();
      expect((await runCommandModule(keygen, ['--out', 'acme'], { cwd: work })).code).toBe(0);
      const r = await addKey(work, 'acme.key', 'acme');
      expect(r).toMatchObject({ code: 1, error: { code: 'KEY_INVALID' } });
      expect(r.error?.message).toMatch(/private key/);
      expect(() => statSync(join(work, 'h', 'trust.json'))).toThrow();
    });

    it.each([
      ['a right-to-left override', 'acme\u202Eevil'],
      ['a left-to-right isolate', '\u2066acme'],
      ['a zero-width joiner', 'ac\u200Dme'],
    ])('a name with %s (TRUST_INVALID)', async (_what, name) => {
      const work = tempDir();
      expect((await runCommandModule(keygen, ['--out', 'acme'], { cwd: work })).code).toBe(0);
      expect(await addKey(work, 'acme.pub', name)).toMatchObject({ code: 1, error: { code: 'TRUST_INVALID' } });
      const id = await runCommandModule(trust, ['add-identity', '--name', name, '--certificate-identity', 'u@example.com', '--certificate-oidc-issuer', 'https://i.example', '--home', join(work, 'h'), '--json']);
      expect(JSON.parse(id.stdout)).toMatchObject({ error: { code: 'TRUST_INVALID' } });
    });
  });
});
