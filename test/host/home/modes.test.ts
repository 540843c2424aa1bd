/**
 * StrictModes for the home: a home, lock.json, trust.json, key or package directory that the user does
 * not own or that group/others can write is refused with HOME_UNSAFE and the command that fixes it.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { homeLayout, readLock } from '../../../host/home/home.ts';
import { unsafeReason } from '../../../host/home/modes.ts';
import { verifyInstalled } from '../../../host/home/verify-installed.ts';
import { loadTrustPolicy } from '../../../host/trust/policy.ts';
import { cli } from '../../helpers/cli.ts';
import { testHome } from '../../helpers/home-fixture.ts';
import { errorOf } from '../../helpers/codes.ts';
import { tempDir } from '../../helpers/tool-package.ts';

describe('unsafeReason', () => {
  it.each([
    [{ uid: 1000, mode: 0o40700 }, null],
    [{ uid: 0, mode: 0o40755 }, null],
    [{ uid: 1000, mode: 0o40775 }, /writable by its group \(mode 0775\)/],
    [{ uid: 1000, mode: 0o40777 }, /writable by its group \(mode 0777\)/],
    [{ uid: 1000, mode: 0o100602 }, /writable by others/],
    [{ uid: 1001, mode: 0o40700 }, /owned by uid 1001, not by you \(uid 1000\)/],
  ])('%o → %s', (info, expected) => {
    const r = unsafeReason(info, 1000);
    if (expected === null) expect(r).toBeNull();
    else expect(r).toMatch(expected);
  });
});

describe('the home is checked before it is believed', () => {
  it.each([0o777, 0o775, 0o770, 0o757])('refuses a home directory with mode %o, saying how to fix it', async (mode) => {
    const home = homeLayout(tempDir('mcpw-modes-'));
    writeFileSync(home.lockFile, JSON.stringify({ version: 1, packages: {} }), { mode: 0o600 });
    chmodSync(home.dir, mode);
    const e = await errorOf(() => readLock(home));
    expect(e.code).toBe('HOME_UNSAFE');
    expect(e.message).toContain(`chmod 700 ${home.dir}`);
    expect(e.message.split('\n')).toHaveLength(1);
  });

  it('refuses a group-writable lock.json and a world-writable trust.json', async () => {
    const home = homeLayout(tempDir('mcpw-modes-'));
    writeFileSync(home.lockFile, JSON.stringify({ version: 1, packages: {} }), { mode: 0o600 });
    chmodSync(home.lockFile, 0o664);
    expect(await errorOf(() => readLock(home))).toMatchObject({ code: 'HOME_UNSAFE', message: expect.stringContaining(`chmod 600 ${home.lockFile}`) });
    chmodSync(home.lockFile, 0o600);
    await expect(readLock(home)).resolves.toMatchObject({ version: 1 });
    writeFileSync(home.trustFile, '{"publishers":[]}');
    chmodSync(home.trustFile, 0o666);
    expect(await errorOf(() => loadTrustPolicy(home.trustFile))).toMatchObject({ code: 'HOME_UNSAFE' });
  });

  it('refuses a group-writable key and packages directory', async () => {
    const home = homeLayout(tempDir('mcpw-modes-'));
    writeFileSync(home.sealKey, Buffer.alloc(32), { mode: 0o600 });
    chmodSync(home.sealKey, 0o660);
    expect((await errorOf(() => readLock(home))).code).toBe('HOME_UNSAFE');
    chmodSync(home.sealKey, 0o600);
    mkdirSync(home.packagesDir, { mode: 0o700 });
    chmodSync(home.packagesDir, 0o775);
    expect((await errorOf(() => readLock(home))).code).toBe('HOME_UNSAFE');
  });

  it('refuses at serve a package directory others can write', async () => {
    const t = await testHome();
    const r = await t.install('echo');
    const dir = join(t.home.dir, r.entry.dir);
    chmodSync(dir, 0o777);
    const lock = await readLock(t.home);
    expect(await errorOf(() => verifyInstalled({ name: 'echo', ...(lock.packages.echo as NonNullable<typeof lock.packages.echo>) }, t.home))).toMatchObject({ code: 'HOME_UNSAFE' });
    chmodSync(dir, 0o755);
    await expect(verifyInstalled({ name: 'echo', ...(lock.packages.echo as NonNullable<typeof lock.packages.echo>) }, t.home)).resolves.toMatchObject({ name: 'echo' });
  });

  it('refuses through the CLI: one line with the code and the fix, exit 1', async () => {
    const dir = tempDir('mcpw-modes-cli-');
    chmodSync(dir, 0o775);
    const r = await cli(['list', '--home', dir], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/HOME_UNSAFE: .* is writable by its group \(mode 0775\).*chmod 700/);
  });
});
