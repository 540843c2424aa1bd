import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import * as secretCommand from '../../../host/commands/secret.ts';
import { homeLayout } from '../../../host/home/home.ts';
import type { Home } from '../../../host/home/home.ts';
import { openValue, sealValue } from '../../../host/secrets/crypto.ts';
import { keyFilePath } from '../../../host/secrets/key.ts';
import type { Keychain } from '../../../host/secrets/key.ts';
import { loadSecretValues, parseSecretsConfig } from '../../../host/secrets/sources.ts';
import { ANY_PACKAGE, listStored, openStore, removeSecret, storePath, storeSecret } from '../../../host/secrets/store.ts';
import { testHome } from '../../helpers/home-fixture.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const VALUE = 'ghp-not-a-real-token-0123456789';

function newHome(): Home {
  const dir = tempDir('mcpw-secrets-');
  chmodSync(dir, 0o700);
  return homeLayout(dir);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'OK',
    (e: unknown) => (e as { code?: string }).code ?? 'NO_CODE',
  );
}

/** An in-memory keychain (the OS one is outside our control; this box has no D-Bus secret service). */
function memoryKeychain(): Keychain & { entries: Map<string, string> } {
  const entries = new Map<string, string>();
  return { entries, get: (a) => entries.get(a) ?? null, set: (a, v) => void entries.set(a, v) };
}

describe('sealValue / openValue (AES-256-GCM)', () => {
  const key = Buffer.alloc(32, 7);
  it('round-trips a value', () => {
    expect(openValue(key, '*', 'TOKEN', sealValue(key, '*', 'TOKEN', VALUE))).toBe(VALUE);
  });
  it('refuses a tampered ciphertext, a tampered tag, another name, another scope and another key with SECRETS_INVALID', () => {
    const sealed = sealValue(key, '*', 'TOKEN', VALUE);
    const flip = (b64: string): string => {
      const b = Buffer.from(b64, 'base64url');
      b[0] = (b[0] ?? 0) ^ 1;
      return b.toString('base64url');
    };
    const attempts = [
      () => openValue(key, '*', 'TOKEN', { ...sealed, data: flip(sealed.data) }),
      () => openValue(key, '*', 'TOKEN', { ...sealed, tag: flip(sealed.tag) }),
      () => openValue(key, '*', 'OTHER', sealed),
      () => openValue(key, 'some-package', 'TOKEN', sealed),
      () => openValue(Buffer.alloc(32, 8), '*', 'TOKEN', sealed),
    ];
    for (const attempt of attempts) expect(attempt).toThrow(expect.objectContaining({ code: 'SECRETS_INVALID' }));
  });
});

describe('the secrets store', () => {
  it('falls back to a 0600 key file without a keychain, keeps no value in clear, and reads it back', async () => {
    const home = newHome();
    expect(await storeSecret(home, ANY_PACKAGE, 'TOKEN', VALUE, null)).toBe('file');
    expect(statSync(keyFilePath(home)).mode & 0o777).toBe(0o600);
    expect(statSync(storePath(home)).mode & 0o777).toBe(0o600);
    expect(readFileSync(storePath(home), 'utf8')).not.toContain(VALUE);
    expect((await openStore(home, null)).get(ANY_PACKAGE)?.get('TOKEN')).toBe(VALUE);
    expect(await listStored(home)).toEqual([{ scope: ANY_PACKAGE, name: 'TOKEN' }]);
  });

  it('keeps the key in the keychain when one is reachable (no key file), and refuses to open when it is gone', async () => {
    const home = newHome();
    const chain = memoryKeychain();
    expect(await storeSecret(home, 'pkg', 'TOKEN', VALUE, chain)).toBe('keychain');
    expect(statSync(keyFilePath(home), { throwIfNoEntry: false })).toBeUndefined();
    expect((await openStore(home, chain)).get('pkg')?.get('TOKEN')).toBe(VALUE);
    expect(await codeOf(openStore(home, null))).toBe('SECRETS_INVALID');
  });

  it('falls back to the key file when the keychain refuses to store', async () => {
    const home = newHome();
    const refusing: Keychain = {
      get: () => null,
      set: () => {
        throw new Error('locked');
      },
    };
    expect(await storeSecret(home, ANY_PACKAGE, 'TOKEN', VALUE, refusing)).toBe('file');
  });

  it('refuses an edited store with SECRETS_INVALID', async () => {
    const home = newHome();
    await storeSecret(home, ANY_PACKAGE, 'TOKEN', VALUE, null);
    const file = JSON.parse(readFileSync(storePath(home), 'utf8'));
    const data = Buffer.from(file.secrets['*'].TOKEN.data, 'base64url');
    data[0] = (data[0] ?? 0) ^ 0xff;
    file.secrets['*'].TOKEN.data = data.toString('base64url');
    writeFileSync(storePath(home), JSON.stringify(file), { mode: 0o600 });
    expect(await codeOf(openStore(home, null))).toBe('SECRETS_INVALID');
  });

  it.each([
    ['the store', (h: Home) => storePath(h)],
    ['the key file', (h: Home) => keyFilePath(h)],
  ])('refuses %s when its group or others can read it (HOME_UNSAFE)', async (_what, pathOf) => {
    const home = newHome();
    await storeSecret(home, ANY_PACKAGE, 'TOKEN', VALUE, null);
    chmodSync(pathOf(home), 0o640);
    expect(await codeOf(openStore(home, null))).toBe('HOME_UNSAFE');
    chmodSync(pathOf(home), 0o604);
    expect(await codeOf(openStore(home, null))).toBe('HOME_UNSAFE');
    chmodSync(pathOf(home), 0o600);
    expect(await codeOf(openStore(home, null))).toBe('OK');
  });

  it('removes a value, and says SECRET_UNKNOWN for one it does not hold', async () => {
    const home = newHome();
    await storeSecret(home, ANY_PACKAGE, 'TOKEN', VALUE, null);
    await removeSecret(home, ANY_PACKAGE, 'TOKEN');
    expect(await listStored(home)).toEqual([]);
    expect(await codeOf(removeSecret(home, ANY_PACKAGE, 'TOKEN'))).toBe('SECRET_UNKNOWN');
  });
});

describe('loadSecretValues', () => {
  it('takes the package\'s stored value, then one for every package, then the secrets file, then the mapped environment variable', async () => {
    const home = newHome();
    await storeSecret(home, 'pkg-a', 'A', 'stored-for-a', null);
    await storeSecret(home, ANY_PACKAGE, 'A', 'stored-for-all', null);
    const file = join(home.dir, 'plain-secrets.json');
    writeFileSync(file, JSON.stringify({ B: 'from-file' }), { mode: 0o600 });
    const config = parseSecretsConfig({ fromEnv: { C: 'MY_C', B: 'MY_B' }, file });
    const values = await loadSecretValues(home, config, { MY_C: 'from-env', MY_B: 'env-loses', OTHER: 'never-read' }, null);
    expect([values.valueFor('pkg-a', 'A'), values.valueFor('pkg-b', 'A'), values.valueFor('pkg-b', 'B'), values.valueFor('pkg-b', 'C'), values.valueFor('pkg-b', 'OTHER')]).toEqual([
      'stored-for-a',
      'stored-for-all',
      'from-file',
      'from-env',
      undefined,
    ]);
    expect(values.all()).not.toContain('never-read');
  });

  it('refuses a secrets file others can read (HOME_UNSAFE)', async () => {
    const home = newHome();
    const file = join(home.dir, 'plain-secrets.json');
    writeFileSync(file, JSON.stringify({ B: 'from-file' }), { mode: 0o644 });
    chmodSync(file, 0o644);
    expect(await codeOf(loadSecretValues(home, parseSecretsConfig({ file }), {}, null))).toBe('HOME_UNSAFE');
  });
});

describe('mcp-warden secret', () => {
  async function run(argv: string[], stdinText?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stdin = new PassThrough();
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    stdin.end(stdinText ?? '');
    const code = await secretCommand.run(argv, { stdout, stderr, stdin, env: {}, cwd: '/' });
    return { code, stdout: out, stderr: err };
  }

  it('set --stdin stores the value, list shows the name and never the value, rm removes it', async () => {
    const home = newHome();
    // Never the developer's real keychain from a test: config.json keeps the key in the home.
    writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ secrets: { keychain: false } }), { mode: 0o600 });
    const set = await run(['set', 'GITHUB_TOKEN', '--stdin', '--home', home.dir], `${VALUE}\n`);
    expect(set.code).toBe(0);
    expect(set.stdout + set.stderr).not.toContain(VALUE);
    expect((await openStore(home, null)).get(ANY_PACKAGE)?.get('GITHUB_TOKEN')).toBe(VALUE);
    const list = await run(['list', '--home', home.dir]);
    expect(list.stdout).toContain('GITHUB_TOKEN');
    expect(list.stdout + list.stderr).not.toContain(VALUE);
    expect((await run(['rm', 'GITHUB_TOKEN', '--home', home.dir])).code).toBe(0);
    expect(await listStored(home)).toEqual([]);
  });

  it('refuses to prompt without a terminal (USAGE), and a bad name (SECRET_UNKNOWN)', async () => {
    const home = newHome();
    const noTty = await run(['set', 'GITHUB_TOKEN', '--home', home.dir]);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('--stdin');
    const bad = await run(['set', 'lower', '--stdin', '--home', home.dir], 'x');
    expect(bad.stderr).toContain('SECRET_UNKNOWN');
  });

  it('list shows what installed packages declare, where it goes, and whether a value is provided', async () => {
    const h = await testHome();
    await h.install('gh', '1.0.0', { secrets: { GITHUB_TOKEN: { hosts: ['api.github.com'], header: { name: 'Authorization', format: 'Bearer {}' } } } });
    writeFileSync(join(h.home.dir, 'config.json'), JSON.stringify({ secrets: { keychain: false } }), { mode: 0o600 });
    expect((await run(['list', '--home', h.home.dir])).stdout).toMatch(/gh: GITHUB_TOKEN → api\.github\.com as header Authorization: Bearer \{\}; value: NOT PROVIDED/);
    await run(['set', 'GITHUB_TOKEN', '--package', 'gh', '--stdin', '--home', h.home.dir], VALUE);
    const list = await run(['list', '--home', h.home.dir]);
    expect(list.stdout).toMatch(/gh: GITHUB_TOKEN → .*; value: stored \(this package\)/);
    expect(list.stdout).not.toContain(VALUE);
  });
});
