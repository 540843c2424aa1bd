/**
 * Crash consistency of install: the installer is killed (SIGKILL, in a child process) right after each
 * step of the commit, for a fresh install and for an update. Each time the home must hold the old
 * version or the new one, never half: the lock parses, every package it names passes serve's integrity
 * re-check and loads; and the next install cleans what the crash left behind.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { homeLayout, installedPackages, readLock } from '../../../host/home/home.ts';
import { INSTALL_STEPS } from '../../../host/install/commit.ts';
import { installPackage } from '../../../host/install/install.ts';
import { readInstallSource } from '../../../host/install/source.ts';
import { loadAll } from '../../../host/serve/loader.ts';
import { publicKeyPem } from '../../../host/signing/keys.ts';
import { parsePublisher, saveTrustPolicy } from '../../../host/trust/policy.ts';
import { verifyInstalled } from '../../../host/home/verify-installed.ts';
import { packEcho, signedWithKey, snapshotHome, writeSigned } from '../../helpers/install-fixtures.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const CHILD = join(import.meta.dirname, '..', '..', 'helpers', 'install-crash.ts');
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let work: string;
let v1: string;
let v2: string;
let base: string;

const options = { bindings: {}, yes: true, allowDowngrade: false, trustNewSigner: false, cwd: '/' };

/** A home with the publisher trusted and, if `withV1`, echo 1.0.0 installed. */
async function makeHome(withV1: boolean): Promise<string> {
  const home = tempDir('mcpw-crash-home-');
  cpSync(join(base, 'trust.json'), join(home, 'trust.json'));
  if (withV1) await installPackage(homeLayout(home), await readInstallSource(v1, undefined, '/'), options);
  return home;
}

/** What serve would serve from this home: the versions of the packages that verify and load. */
async function served(home: string): Promise<Record<string, string>> {
  const h = homeLayout(home);
  const lock = await readLock(h);
  const { packages, refused } = await loadAll(
    installedPackages(lock).map((entry) => ({ kind: 'installed' as const, entry })),
    { home: h, verify: verifyInstalled },
  );
  expect(refused).toEqual([]);
  return Object.fromEntries(packages.map((p) => [p.name, p.version]));
}

beforeAll(async () => {
  work = tempDir('mcpw-crash-');
  base = tempDir('mcpw-crash-base-');
  await saveTrustPolicy(join(base, 'trust.json'), { publishers: [parsePublisher({ name: 'acme', kind: 'key', publicKeyPem: publicKeyPem(key.publicKey) })] });
  const t1 = await packEcho('echo', '1.0.0');
  const t2 = await packEcho('echo', '1.1.0');
  v1 = writeSigned(work, 'echo-1.0.0.tgz', t1, signedWithKey(t1, key.privateKey));
  v2 = writeSigned(work, 'echo-1.1.0.tgz', t2, signedWithKey(t2, key.privateKey));
});

describe('install killed after each step', () => {
  it.each(INSTALL_STEPS.map((s) => [s]))('update killed after "%s": the old version or the new one is served, never half', async (step) => {
    const home = await makeHome(true);
    const r = spawnSync(process.execPath, [CHILD, home, v2, step], { encoding: 'utf8', timeout: 30_000 });
    expect(r.signal).toBe('SIGKILL');
    const after = await served(home);
    // Before the lock's rename the old version is installed; from the rename on, the new one.
    expect(after).toEqual({ echo: step === 'committed' ? '1.1.0' : '1.0.0' });

    // Recovery: the next install removes what the crash left (temporary dirs, unreferenced versions, lock temp files).
    await installPackage(homeLayout(home), await readInstallSource(v2, undefined, '/'), options);
    expect(await served(home)).toEqual({ echo: '1.1.0' });
    const snap = Object.keys(snapshotHome(home));
    expect(snap.filter((p) => p.endsWith('/') && p.split('/').length === 3)).toEqual(['packages/echo@1.1.0/']);
    expect(snap.some((p) => p.endsWith('.tmp'))).toBe(false);
    expect(existsSync(join(home, 'install.lock'))).toBe(false);
  });

  it.each(INSTALL_STEPS.map((s) => [s]))('fresh install killed after "%s": not installed or fully installed', async (step) => {
    const home = await makeHome(false);
    const r = spawnSync(process.execPath, [CHILD, home, v1, step], { encoding: 'utf8', timeout: 30_000 });
    expect(r.signal).toBe('SIGKILL');
    expect(await served(home)).toEqual(step === 'committed' ? { echo: '1.0.0' } : {});
    // The crashed installer's writer lock names a dead pid: the next install takes it over.
    await installPackage(homeLayout(home), await readInstallSource(v1, undefined, '/'), options);
    expect(await served(home)).toEqual({ echo: '1.0.0' });
    expect(readdirSync(join(home, 'packages')).sort()).toEqual(['echo@1.0.0']);
  });
});
