/** A home with one trusted publisher key and packages installed through the real install path. */
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { homeLayout } from '../../host/home/home.ts';
import type { Home } from '../../host/home/home.ts';
import { installPackage } from '../../host/install/install.ts';
import type { InstallResult } from '../../host/install/install.ts';
import { readInstallSource } from '../../host/install/source.ts';
import { publicKeyPem } from '../../host/signing/keys.ts';
import { parsePublisher, saveTrustPolicy } from '../../host/trust/policy.ts';
import { packEcho, signedWithKey, writeSigned } from './install-fixtures.ts';
import type { PackageOptions } from './install-fixtures.ts';
import { tempDir } from './tool-package.ts';

export interface TestHome {
  readonly home: Home;
  readonly key: { publicKey: KeyObject; privateKey: KeyObject };
  /** Packs, signs and installs an echo package (tool `echo`) with --yes. */
  install(name: string, version?: string, options?: PackageOptions & { bindings?: Record<string, string> }): Promise<InstallResult>;
}

export async function testHome(dir: string = tempDir('mcpw-home-')): Promise<TestHome> {
  const home = homeLayout(dir);
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await saveTrustPolicy(home.trustFile, { publishers: [parsePublisher({ name: 'acme', kind: 'key', publicKeyPem: publicKeyPem(key.publicKey) })] });
  const work = tempDir('mcpw-home-work-');
  return {
    home,
    key,
    async install(name, version = '1.0.0', options = {}) {
      const tarball = await packEcho(name, version, options);
      const file = writeSigned(work, `${name.replace('/', '-')}-${version}.tgz`, tarball, signedWithKey(tarball, key.privateKey));
      return installPackage(home, await readInstallSource(file, undefined, '/'), { bindings: options.bindings ?? {}, yes: true, allowDowngrade: false, trustNewSigner: false, cwd: '/' });
    },
  };
}
