import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import ssri from 'ssri';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchNpmPackage, MAX_PACKUMENT_BYTES, replaceRegistryHost } from '../../../host/registry/fetch.ts';
import { parseNpmSpec } from '../../../host/registry/resolve.ts';
import { asyncCodeOf, errorOf } from '../../helpers/codes.ts';
import { packEcho } from '../../helpers/install-fixtures.ts';
import { startNpmRegistry } from '../../helpers/npm-registry.ts';
import type { Knobs, NpmRegistry } from '../../helpers/npm-registry.ts';
import { tempDir } from '../../helpers/tool-package.ts';

let registry: NpmRegistry;
let v1: Buffer;
const ATTESTATIONS = { attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', bundle: {} }] };
const KEYS = { keys: [{ keyid: 'SHA256:x', keytype: 'ecdsa-sha2-nistp256', scheme: 'ecdsa-sha2-nistp256', key: 'AAAA', expires: null }] };

function fetchSpec(spec: string, extra: { config?: Record<string, string>; exemptHosts?: string[]; timeoutMs?: number } = {}) {
  const parsed = parseNpmSpec(spec);
  if (!parsed) throw new Error(`not a spec: ${spec}`);
  return fetchNpmPackage(parsed, { cwd: tempDir('mcpw-reg-cwd-'), env: {}, config: extra.config ?? { registry: registry.url }, ...(extra.exemptHosts ? { exemptHosts: extra.exemptHosts } : {}), ...(extra.timeoutMs ? { timeoutMs: extra.timeoutMs } : {}) });
}

beforeAll(async () => {
  registry = await startNpmRegistry();
  v1 = await packEcho('@acme/echo', '1.0.0');
  registry.publish({ name: '@acme/echo', version: '1.0.0', tarball: v1, attestations: ATTESTATIONS });
  registry.publish({ name: '@acme/echo', version: '1.1.0', tarball: await packEcho('@acme/echo', '1.1.0'), attestations: ATTESTATIONS });
  registry.publish({ name: 'plain', version: '1.0.0', tarball: await packEcho('plain', '1.0.0') });
  registry.publish({ name: 'deps', version: '1.0.0', tarball: await packEcho('deps', '1.0.0'), dependencies: { 'left-pad': '^1.0.0' } });
  registry.keys = KEYS;
});
afterAll(() => registry.close());
beforeEach(() => {
  for (const k of Object.keys(registry.knobs)) delete registry.knobs[k as keyof Knobs];
});

describe('fetchNpmPackage against a loopback registry', () => {
  it('resolves a name to its latest version and brings the tarball, its attestations and the registry keys', async () => {
    const p = await fetchSpec('@acme/echo');
    expect(p.version).toBe('1.1.0');
    expect(p.attestations).toEqual(ATTESTATIONS);
    expect(p.keys).toEqual(KEYS);
    expect(p.integrity).toBe(ssri.fromData(p.tarball, { algorithms: ['sha512'] }).toString());
  });

  it('resolves a range and an exact version', async () => {
    expect((await fetchSpec('@acme/echo@~1.0.0')).tarball.equals(v1)).toBe(true);
    expect((await fetchSpec('npm:@acme/echo@1.0.0')).version).toBe('1.0.0');
  });

  it('brings no attestations for a version published without them', async () => {
    const p = await fetchSpec('plain');
    expect(p.attestations).toBeUndefined();
  });

  it('refuses a tarball that does not match dist.integrity', async () => {
    registry.knobs.wrongIntegrity = true;
    expect(await asyncCodeOf(() => fetchSpec('@acme/echo'))).toBe('INTEGRITY_MISMATCH');
  });

  it('refuses a package with runtime dependencies before downloading it', async () => {
    const before = registry.requests.length;
    expect(await asyncCodeOf(() => fetchSpec('deps'))).toBe('DEPENDENCIES_UNSUPPORTED');
    expect(registry.requests.slice(before).some((r) => r.path.endsWith('.tgz'))).toBe(false);
  });

  it.each(['packument', 'attestations', 'keys'] as const)('refuses a garbage %s', async (kind) => {
    registry.knobs.garbage = kind;
    expect(await asyncCodeOf(() => fetchSpec('@acme/echo'))).toBe('REGISTRY_RESPONSE_INVALID');
  });

  it('refuses a garbage tarball by its integrity', async () => {
    registry.knobs.garbage = 'tarball';
    expect(await asyncCodeOf(() => fetchSpec('@acme/echo'))).toBe('INTEGRITY_MISMATCH');
  });

  it.each(['packument', 'tarball', 'attestations', 'keys'] as const)('cuts off an endless (2 GiB) %s at its cap', async (kind) => {
    registry.knobs.endless = kind;
    expect(await asyncCodeOf(() => fetchSpec('@acme/echo'))).toBe('REGISTRY_RESPONSE_TOO_LARGE');
    expect(MAX_PACKUMENT_BYTES).toBeLessThan(2 ** 31);
  });

  it.each(['packument', 'tarball'] as const)('gives up on a %s that stalls mid-body at its deadline, and says which limit fired', async (kind) => {
    registry.knobs.stall = kind;
    const e = await errorOf(() => fetchSpec('@acme/echo', { timeoutMs: 500 }));
    expect(e.code).toBe('FETCH_FAILED');
    expect(e.message).toMatch(/no complete answer within its deadline \(500 ms\)/);
  });

  it('answers PACKAGE_NOT_FOUND for an unknown package or version', async () => {
    expect(await asyncCodeOf(() => fetchSpec('nope'))).toBe('PACKAGE_NOT_FOUND');
    expect(await asyncCodeOf(() => fetchSpec('@acme/echo@^9'))).toBe('PACKAGE_NOT_FOUND');
  });

  it('refuses a dist.tarball on another host that is a private (here loopback) address', async () => {
    registry.knobs.tarballBase = `http://localhost:${registry.port}/`;
    expect(await asyncCodeOf(() => fetchSpec('@acme/echo'))).toBe('REGISTRY_ADDRESS_REFUSED');
    registry.knobs.tarballBase = `http://127.0.0.2:${registry.port}/`;
    expect(await asyncCodeOf(() => fetchSpec('@acme/echo'))).toBe('REGISTRY_ADDRESS_REFUSED');
  });

  it('refuses a redirect of the tarball to a private address', async () => {
    registry.knobs.redirectTarballTo = 'http://10.0.0.1/echo.tgz';
    expect(await asyncCodeOf(() => fetchSpec('@acme/echo'))).toBe('REGISTRY_ADDRESS_REFUSED');
    registry.knobs.redirectTarballTo = `http://[::ffff:127.0.0.3]:${registry.port}/echo.tgz`;
    expect(await asyncCodeOf(() => fetchSpec('@acme/echo'))).toBe('REGISTRY_ADDRESS_REFUSED');
  });

  it('refuses a dist.tarball of another protocol than the registry', async () => {
    registry.knobs.tarballBase = 'https://registry.example/';
    expect(await asyncCodeOf(() => fetchSpec('@acme/echo'))).toBe('REGISTRY_RESPONSE_INVALID');
  });

  it('sends the configured token to the registry host only, never to a tarball on another host (npm rule)', async () => {
    const config = { registry: registry.url, [`//127.0.0.1:${registry.port}/:_authToken`]: 'registry-token' };
    registry.knobs.tarballBase = `http://localhost:${registry.port}/`;
    const before = registry.requests.length;
    await fetchSpec('@acme/echo', { config, exemptHosts: ['localhost'] });
    const seen = registry.requests.slice(before);
    const packument = seen.find((r) => r.path === '/@acme/echo');
    const tarball = seen.find((r) => r.path.endsWith('.tgz'));
    expect(packument?.authorization).toBe('Bearer registry-token');
    expect(tarball?.host).toBe(`localhost:${registry.port}`);
    expect(tarball?.authorization).toBeUndefined();
  });
});

describe('replaceRegistryHost (npm replace-registry-host)', () => {
  const mirror = new URL('https://mirror.example/npm/');
  it.each([
    ['https://registry.npmjs.org/x/-/x-1.0.0.tgz', undefined, 'https://mirror.example/x/-/x-1.0.0.tgz'],
    ['https://registry.npmjs.org/x/-/x-1.0.0.tgz', 'npmjs', 'https://mirror.example/x/-/x-1.0.0.tgz'],
    ['https://registry.npmjs.org/x/-/x-1.0.0.tgz', 'never', 'https://registry.npmjs.org/x/-/x-1.0.0.tgz'],
    ['https://cdn.example/x/-/x-1.0.0.tgz', undefined, 'https://cdn.example/x/-/x-1.0.0.tgz'],
    ['https://cdn.example/x/-/x-1.0.0.tgz', 'always', 'https://mirror.example/x/-/x-1.0.0.tgz'],
    ['https://cdn.example/x/-/x-1.0.0.tgz', 'cdn.example', 'https://mirror.example/x/-/x-1.0.0.tgz'],
  ])('%s with %s → %s', (tarball, setting, want) => {
    expect(replaceRegistryHost(tarball, mirror, setting)).toBe(want);
  });
});

describe('npm settings that do not apply', () => {
  it('never reads or writes npm\'s cache, whatever the configuration says', async () => {
    const cache = tempDir('mcpw-reg-cache-');
    const p = await fetchSpec('@acme/echo', { config: { registry: registry.url, cache, offline: 'true', 'prefer-offline': 'true' } });
    expect(p.version).toBe('1.1.0');
    expect(readdirSync(cache)).toEqual([]);
  });
});

describe('registry credentials', () => {
  it('sends _auth as basic auth to the registry host', async () => {
    const config = { registry: registry.url, [`//127.0.0.1:${registry.port}/:_auth`]: Buffer.from('u:p').toString('base64') };
    const before = registry.requests.length;
    await fetchSpec('@acme/echo', { config });
    expect(registry.requests.slice(before).every((r) => r.authorization === `Basic ${Buffer.from('u:p').toString('base64')}`)).toBe(true);
  });

  it('expands ${VAR} in a token from the .npmrc the CLI would read', async () => {
    const dir = tempDir('mcpw-reg-rc-');
    writeFileSync(join(dir, '.npmrc'), `registry=${registry.url}\n//127.0.0.1:${registry.port}/:_authToken=\${REG_TOKEN}\n`);
    const before = registry.requests.length;
    const parsed = parseNpmSpec('@acme/echo');
    if (!parsed) throw new Error('spec');
    await fetchNpmPackage(parsed, { cwd: dir, env: { HOME: dir, REG_TOKEN: 'from-env' } });
    expect(registry.requests.slice(before)[0]?.authorization).toBe('Bearer from-env');
  });
});
