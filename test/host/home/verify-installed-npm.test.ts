/**
 * serve's re-verification of a package installed from npm (host/home/verify-installed.ts, signer
 * `provenance:[…]`): from the copy kept in the home, offline, with the codes install would give.
 * Installed in-process from a real loopback registry with attestations signed by the local Sigstore stack.
 */
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as trust from '../../../host/commands/trust.ts';
import { homeLayout, installedPackages, readLock } from '../../../host/home/home.ts';
import type { Home } from '../../../host/home/home.ts';
import { verifyInstalled } from '../../../host/home/verify-installed.ts';
import { installPackage } from '../../../host/install/install.ts';
import { readNpmSource } from '../../../host/install/npm-source.ts';
import { parseNpmSpec } from '../../../host/registry/resolve.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';
import { packEcho } from '../../helpers/install-fixtures.ts';
import { makeNpmAttestations } from '../../helpers/npm-attestations.ts';
import { startNpmRegistry } from '../../helpers/npm-registry.ts';
import type { NpmRegistry } from '../../helpers/npm-registry.ts';
import { runCommandModule } from '../../helpers/run-command.ts';
import { startSigstoreStack } from '../../helpers/sigstore-stack.ts';
import type { SigstoreStack } from '../../helpers/sigstore-stack.ts';
import { tempDir } from '../../helpers/tool-package.ts';

let stack: SigstoreStack;
let registry: NpmRegistry;

beforeAll(async () => {
  stack = await startSigstoreStack();
  registry = await startNpmRegistry();
  const tarball = await packEcho('@acme/echo', '1.0.0');
  const made = await makeNpmAttestations(stack, { name: '@acme/echo', version: '1.0.0', tarball });
  registry.keys = made.keys;
  registry.publish({ name: '@acme/echo', version: '1.0.0', tarball, attestations: made.attestations });
});
afterAll(async () => {
  await registry?.close();
  await stack?.close();
});

async function installed(): Promise<Home> {
  const dir = join(tempDir('mcpw-npm-vi-'), 'home');
  const ok = async (argv: string[]): Promise<void> => {
    const r = await runCommandModule(trust, [...argv, '--home', dir]);
    if (r.code !== 0) throw new Error(r.stderr);
  };
  await ok(['refresh-root', '--from', stack.trustedRootFile]);
  await ok(['add-provenance', '--repo', 'github.com/acme/weather-tool', '--name', 'acme', '--scope', '@acme/*']);
  const home = homeLayout(dir);
  const cwd = tempDir('mcpw-npm-vi-cwd-');
  const source = await readNpmSource(parseNpmSpec('@acme/echo') as NonNullable<ReturnType<typeof parseNpmSpec>>, { cwd, env: registry.npmrcEnv(cwd) });
  await installPackage(home, source, { bindings: {}, yes: true, allowDowngrade: false, trustNewSigner: false, cwd });
  return home;
}

async function first(home: Home) {
  const [pkg] = installedPackages(await readLock(home));
  if (!pkg) throw new Error('nothing installed');
  return pkg;
}

describe('verifyInstalled for a package installed from npm', () => {
  it('re-verifies the kept attestations and passes', async () => {
    const home = await installed();
    const v = await verifyInstalled(await first(home), home);
    expect(v.signer).toMatch(/^provenance:\[/);
    expect(v.files.has('index.js')).toBe(true);
  });

  it('refuses when the kept attestations are gone (SIGNATURE_INVALID) or no longer name the tarball', async () => {
    const home = await installed();
    const kept = readdirSync(home.storeDir).find((n) => n.endsWith('.attestations.json')) as string;
    const saved = readFileSync(join(home.storeDir, kept));
    rmSync(join(home.storeDir, kept));
    expect(await asyncCodeOf(() => first(home).then((p) => verifyInstalled(p, home)))).toBe('SIGNATURE_INVALID');
    const other = await makeNpmAttestations(stack, { name: '@acme/echo', version: '1.0.0', tarball: Buffer.from('other bytes') });
    writeFileSync(join(home.storeDir, kept), JSON.stringify(other.attestations));
    expect(await asyncCodeOf(() => first(home).then((p) => verifyInstalled(p, home)))).toBe('PROVENANCE_SUBJECT_MISMATCH');
    writeFileSync(join(home.storeDir, kept), saved);
    await expect(first(home).then((p) => verifyInstalled(p, home))).resolves.toBeTruthy();
  });

  it('refuses once the provenance publisher is removed from trust.json (PROVENANCE_UNTRUSTED)', async () => {
    const home = await installed();
    const r = await runCommandModule(trust, ['remove', 'acme', '--home', home.dir]);
    expect(r.code).toBe(0);
    expect(await asyncCodeOf(() => first(home).then((p) => verifyInstalled(p, home)))).toBe('PROVENANCE_UNTRUSTED');
  });

  it('refuses a lock entry rewritten outside mcp-warden (unsealed): the kept copy names the precise reason', async () => {
    const home = await installed();
    const lock = JSON.parse(readFileSync(home.lockFile, 'utf8')) as { packages: Record<string, { provenance: { repository: string } }> };
    (lock.packages['@acme/echo'] as { provenance: { repository: string } }).provenance.repository = 'github.com/acme/forged';
    writeFileSync(home.lockFile, JSON.stringify(lock));
    expect(await asyncCodeOf(() => first(home).then((p) => verifyInstalled(p, home)))).toBe('INTEGRITY_MISMATCH');
  });
});
