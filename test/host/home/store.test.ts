import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import ssri from 'ssri';
import { homeLayout } from '../../../host/home/home.ts';
import type { LockEntry } from '../../../host/home/home.ts';
import { NpmEvidence, cleanStore, keepSignedPackage, readKeptNpmPackage, readKeptPackage, storeStem } from '../../../host/home/store.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const tarball = Buffer.from('a tarball');
const integrity = ssri.fromData(tarball, { algorithms: ['sha512'] }).toString();
const entry = { version: '1.0.0', integrity, signer: 'x', dir: 'packages/a@1.0.0', grant: { net: [], fs: [], slots: {} }, installedAt: '' } satisfies LockEntry;

describe('the store of a package installed from npm', () => {
  it('keeps the tarball, the attestations and the registry keys (no bundle), and reads them back', async () => {
    const home = homeLayout(tempDir('mcpw-store-'));
    await keepSignedPackage(home, integrity, tarball, new NpmEvidence({ attestations: [1] }, { keys: [2] }));
    const stem = storeStem(integrity) as string;
    expect(readdirSync(home.storeDir).sort()).toEqual([`${stem}.attestations.json`, `${stem}.keys.json`, `${stem}.tgz`]);
    const kept = await readKeptNpmPackage(home, integrity);
    expect(kept?.tarball.equals(tarball)).toBe(true);
    expect(kept?.attestations).toEqual({ attestations: [1] });
    expect(kept?.keys).toEqual({ keys: [2] });
    // Not a bundle-signed copy.
    expect(await readKeptPackage(home, integrity)).toBeUndefined();
  });

  it('keeps "no keys" as null and reads it back as undefined', async () => {
    const home = homeLayout(tempDir('mcpw-store-'));
    await keepSignedPackage(home, integrity, tarball, new NpmEvidence({ attestations: [] }, undefined));
    expect((await readKeptNpmPackage(home, integrity))?.keys).toBeUndefined();
  });

  it('cleanStore keeps the npm evidence of a referenced package and removes an unreferenced one', async () => {
    const home = homeLayout(tempDir('mcpw-store-'));
    await keepSignedPackage(home, integrity, tarball, new NpmEvidence({}, {}));
    expect(await cleanStore(home, { version: 1, packages: { a: entry } })).toEqual([]);
    expect((await cleanStore(home, { version: 1, packages: {} })).sort()).toHaveLength(3);
    expect(await readKeptNpmPackage(home, integrity)).toBeUndefined();
  });
});
