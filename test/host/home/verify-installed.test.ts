/**
 * serve's integrity re-check of installed packages: the directory must hold exactly the files recorded
 * at install, each with its sha512; the verified bytes are what the loader gets.
 */
import { appendFileSync, chmodSync, mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { homeLayout } from '../../../host/home/home.ts';
import type { InstalledPackage } from '../../../host/home/home.ts';
import { verifierForOneLoad, verifyInstalled } from '../../../host/home/verify-installed.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';
import { sealEntry } from '../../../host/home/seal.ts';
import { digestTree, trustedTestSigner } from '../../helpers/installed.ts';
import { tempDir } from '../../helpers/tool-package.ts';

function installed(): { home: ReturnType<typeof homeLayout>; pkg: InstalledPackage; dir: string } {
  const home = homeLayout(tempDir('mcpw-verify-'));
  const dir = join(home.packagesDir, 'echo@1.0.0');
  mkdirSync(join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"echo","version":"1.0.0"}');
  writeFileSync(join(dir, 'lib', 'index.js'), 'export default {};');
  const { signer, sealKey } = trustedTestSigner(home.dir);
  const entry = {
    version: '1.0.0',
    integrity: 'sha512-x',
    signer,
    dir: 'packages/echo@1.0.0',
    grant: { net: [], fs: [], slots: {} },
    installedAt: '2026-01-01T00:00:00Z',
    files: digestTree(dir),
  };
  const pkg: InstalledPackage = { name: 'echo', ...sealEntry(sealKey, 'echo', entry) };
  return { home, pkg, dir };
}

describe('verifyInstalled', () => {
  it('for one load, reads trust.json once: every package of the load is judged against that reading', async () => {
    const { home, pkg } = installed();
    const verifier = verifierForOneLoad();
    await expect(verifier(pkg, home)).resolves.toMatchObject({ name: 'echo' });
    // The publisher is removed: the same load keeps its reading; the next load (or a single check) sees it.
    writeFileSync(home.trustFile, JSON.stringify({ publishers: [] }), { mode: 0o600 });
    await expect(verifier(pkg, home)).resolves.toMatchObject({ name: 'echo' });
    expect(await asyncCodeOf(() => verifyInstalled(pkg, home))).toBe('UNTRUSTED_SIGNER');
    expect(await asyncCodeOf(() => verifierForOneLoad()(pkg, home))).toBe('UNTRUSTED_SIGNER');
  });

  it('for one load, reads lock.key once and checks the directories above the packages once; each package directory every time', async () => {
    const { home, pkg, dir } = installed();
    const verifier = verifierForOneLoad();
    await expect(verifier(pkg, home)).resolves.toMatchObject({ name: 'echo' });
    // Another key (the seal no longer matches) and a group-writable packages/: the same load keeps its
    // readings; a new load and a single check see both.
    writeFileSync(home.sealKey, Buffer.alloc(32, 7), { mode: 0o600 });
    chmodSync(home.packagesDir, 0o770);
    await expect(verifier(pkg, home)).resolves.toMatchObject({ name: 'echo' });
    expect(await asyncCodeOf(() => verifierForOneLoad()(pkg, home))).toBe('HOME_UNSAFE');
    chmodSync(home.packagesDir, 0o700);
    expect(await asyncCodeOf(() => verifierForOneLoad()(pkg, home))).not.toBe('HOME_UNSAFE');
    expect(await asyncCodeOf(() => verifyInstalled(pkg, home))).not.toBe('HOME_UNSAFE');
    // The package's own directory is checked for every package of the load.
    chmodSync(dir, 0o770);
    expect(await asyncCodeOf(() => verifier(pkg, home))).toBe('HOME_UNSAFE');
  });

  it('refuses in the same order when the load\'s readings fail together: an unsafe directory, then trust.json, then lock.key', async () => {
    const { home, pkg, dir } = installed();
    writeFileSync(home.trustFile, '{ not json', { mode: 0o600 });
    writeFileSync(home.sealKey, Buffer.alloc(3), { mode: 0o600 });
    chmodSync(dir, 0o770);
    expect(await asyncCodeOf(() => verifierForOneLoad()(pkg, home))).toBe('HOME_UNSAFE');
    chmodSync(dir, 0o700);
    const trustCode = await asyncCodeOf(() => verifierForOneLoad()(pkg, home));
    expect(trustCode).not.toBe('KEY_INVALID');
    expect(trustCode).toBeDefined();
    writeFileSync(home.trustFile, JSON.stringify({ publishers: [] }), { mode: 0o600 });
    expect(await asyncCodeOf(() => verifierForOneLoad()(pkg, home))).toBe('KEY_INVALID');
  });

  it('returns the verified files of an intact package', async () => {
    const { home, pkg } = installed();
    const v = await verifyInstalled(pkg, home);
    expect([...v.files.keys()].sort()).toEqual(['lib/index.js', 'package.json']);
    expect(v.files.get('lib/index.js')?.toString()).toBe('export default {};');
    expect(v).toMatchObject({ name: 'echo', version: '1.0.0', signer: pkg.signer });
  });

  it.each([
    ['a modified file', (dir: string) => appendFileSync(join(dir, 'lib', 'index.js'), '//x')],
    ['a missing file', (dir: string) => unlinkSync(join(dir, 'lib', 'index.js'))],
    ['an added file', (dir: string) => writeFileSync(join(dir, 'extra.js'), '')],
    ['a file replaced by a symlink to an identical copy', (dir: string) => {
      writeFileSync(join(dir, '..', 'copy.js'), 'export default {};');
      unlinkSync(join(dir, 'lib', 'index.js'));
      symlinkSync(join(dir, '..', 'copy.js'), join(dir, 'lib', 'index.js'));
    }],
  ])('refuses %s (INTEGRITY_MISMATCH)', async (_what, tamper) => {
    const { home, pkg, dir } = installed();
    tamper(dir);
    expect(await asyncCodeOf(() => verifyInstalled(pkg, home))).toBe('INTEGRITY_MISMATCH');
  });

  it('refuses a lock entry that records no file digests (fail closed)', async () => {
    const { home, pkg } = installed();
    const { files: _f, seal: _s, ...bare } = pkg;
    const { sealKey } = trustedTestSigner(home.dir);
    const { name, ...entry } = bare;
    expect(await asyncCodeOf(() => verifyInstalled({ name, ...sealEntry(sealKey, name, entry) }, home))).toBe('INTEGRITY_MISMATCH');
  });

  it('refuses a package directory that is missing or a symlink out of packages/ (PACKAGE_INVALID)', async () => {
    const { home, pkg, dir } = installed();
    rmSync(dir, { recursive: true });
    expect(await asyncCodeOf(() => verifyInstalled(pkg, home))).toBe('PACKAGE_INVALID');
    const elsewhere = tempDir('mcpw-elsewhere-');
    symlinkSync(elsewhere, dir);
    expect(await asyncCodeOf(() => verifyInstalled(pkg, home))).toBe('PACKAGE_INVALID');
  });
});
