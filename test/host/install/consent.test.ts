/**
 * The consent screen (issue 8, item 29): it names the signer and every resource limit the package asks
 * above or below the defaults (a package asking 60 s of CPU and 512 MB must not read "nothing outside
 * its sandbox"), and an interactive install shows the summary once.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import * as install from '../../../host/commands/install.ts';
import { describeProvenance, describeRequest } from '../../../host/install/consent.ts';
import { parsePackageManifest } from '../../../host/manifest.ts';
import { packToBuffer } from '../../../host/pack/pack.ts';
import { publicKeyPem } from '../../../host/signing/keys.ts';
import { parsePublisher, saveTrustPolicy } from '../../../host/trust/policy.ts';
import { signedWithKey, writeEchoPackage, writeSigned } from '../../helpers/install-fixtures.ts';

const acme = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const LIMITS = { cpuMs: 60_000, memoryMb: 512, wallMs: 30_000 };

function hungryPackage(name: string): string {
  const dir = writeEchoPackage(name, '1.0.0');
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { mcpWarden: Record<string, unknown> };
  pkg.mcpWarden.limits = LIMITS;
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  return dir;
}

describe('describeRequest', () => {
  const pm = parsePackageManifest({
    name: '@acme/hungry',
    version: '1.0.0',
    mcpWarden: { entry: 'index.js', tools: [{ name: 'echo', description: 'd', inputSchema: { type: 'object' } }], limits: LIMITS },
  });

  it('names the signer and every limit that differs from the defaults, with the default', () => {
    const text = describeRequest(pm, { net: [], fs: [], slots: {} }, [], undefined, { signer: 'key abc123', publisher: 'acme' });
    expect(text).toContain('Signed by:   key abc123 (trusted as "acme")');
    expect(text).toMatch(/cpuMs\s+60000 \(default 2000\)/);
    expect(text).toMatch(/memoryMb\s+512 \(default 64\)/);
    // wallMs is asked at its default value: nothing to show.
    expect(text).not.toContain('wallMs');
    expect(text).not.toMatch(/^\s*nothing outside its sandbox/m);
  });

  it('says the limits are the defaults when the package asks for none', () => {
    const plain = parsePackageManifest({ name: 'plain', version: '1.0.0', mcpWarden: { entry: 'index.js', tools: [{ name: 'echo', description: 'd', inputSchema: { type: 'object' } }] } });
    const text = describeRequest(plain, { net: [], fs: [], slots: {} }, [], undefined, { signer: 'key abc123', publisher: 'acme' });
    expect(text).toContain('Resource limits: the defaults');
  });
});

describe('an interactive install', () => {
  let work: string;
  let home: string;

  beforeAll(async () => {
    work = (await import('../../helpers/tool-package.ts')).tempDir('mcpw-consent-');
    home = join(work, 'home');
    await saveTrustPolicy(join(home, 'trust.json'), { publishers: [parsePublisher({ name: 'acme', kind: 'key', publicKeyPem: publicKeyPem(acme.publicKey) })] });
  });

  it('shows the summary once, with signer and limits, and installs on "y"', async () => {
    const tarball = (await packToBuffer(hungryPackage('@acme/hungry'))).data;
    const file = writeSigned(work, 'hungry.tgz', tarball, signedWithKey(tarball, acme.privateKey));
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const stdout = new PassThrough();
    const stderr = Object.assign(new PassThrough(), { isTTY: true });
    let out = '';
    let err = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    stderr.on('data', (c: Buffer) => {
      err += c.toString();
      // Answer once the question is on the screen.
      if (err.includes('[y/N]')) stdin.write('y\n');
    });
    const code = await install.run([file, '--home', home], { stdin, stdout, stderr, env: {}, cwd: work });
    expect(code).toBe(0);
    const screen = err + out;
    expect(screen.match(/provides 1 tool/g)).toHaveLength(1);
    expect(err).toMatch(/Signed by:\s+key [0-9a-f]+ \(trusted as "acme"\)/);
    expect(err).toMatch(/cpuMs\s+60000 \(default 2000\)/);
    expect(out).toContain('installed @acme/hungry@1.0.0');
  });
});

describe('the provenance lines of the consent screen', () => {
  const p = {
    repository: 'github.com/acme/weather-tool',
    commit: 'a'.repeat(40),
    workflow: '.github/workflows/release.yml',
    ref: 'refs/tags/v1.2.0',
    builder: 'https://github.com/acme/weather-tool/.github/workflows/release.yml@refs/tags/v1.2.0',
    issuer: 'https://token.actions.githubusercontent.com',
    transparencyLog: { logIndex: '42', integratedTime: '1764496800' },
  };
  it('shows repository, commit and ref, workflow, builder, issuer and the transparency-log entry', () => {
    const text = describeProvenance(p).join('\n');
    expect(text).toContain('repository:   github.com/acme/weather-tool');
    expect(text).toContain(`commit:       ${'a'.repeat(40)} (refs/tags/v1.2.0)`);
    expect(text).toContain('workflow:     .github/workflows/release.yml');
    expect(text).toContain('builder:      https://github.com/acme/weather-tool/');
    expect(text).toContain('tlog entry:   index 42, logged 2025-11-30T10:00:00.000Z');
  });
  it('neutralises control characters and leaves out an unreadable log time', () => {
    const text = describeProvenance({ ...p, repository: 'github.com/acme/\u202eevil\nx', transparencyLog: { logIndex: '7', integratedTime: 'soon' } }).join('\n');
    expect(text).not.toMatch(/[\u202e]/);
    expect(text).toMatch(/index 7$/m);
  });
});
