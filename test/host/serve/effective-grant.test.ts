import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bindSlots, effectiveGrant } from '../../../host/serve/effective-grant.ts';
import type { PackageManifest } from '../../../host/manifest.ts';
import { fsGrantToStrings, netGrantToStrings, parseFsGrant } from '../../../runtime/index.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = realpathSync(mkdtempSync(join(tmpdir(), 'warden-eg-')));
  dirs.push(d);
  return d;
}

/** Only the capabilities part of a manifest is read here. */
function manifest(capabilities: { net?: unknown[]; fs?: unknown[]; ask?: unknown }): PackageManifest {
  return { name: 'pkg', version: '1.0.0', manifest: { capabilities: { net: [], fs: [], ...capabilities } } } as unknown as PackageManifest;
}

describe('effectiveGrant', () => {
  it('is the intersection of what the manifest asks and what the user allowed, never wider than either', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'data'));
    const pm = manifest({ net: ['api.example.com', '*.cdn.example'], fs: [{ slot: 'data', access: 'read' }] });
    const slots = await bindSlots(pm, { data: join(dir, 'data') }, 'pkg');
    const { grant, paths } = await effectiveGrant(pm, slots, ['api.example.com', 'other.example'], parseFsGrant([`write:${dir}`]), 'pkg');
    expect(netGrantToStrings(grant.net)).toEqual(['api.example.com']);
    expect(fsGrantToStrings(grant.fs)).toEqual([`read:${join(dir, 'data')}`]);
    expect(paths).toEqual({ data: join(dir, 'data') });
  });

  it('drops a slot the user did not allow, and grants nothing on the network without an allowance', async () => {
    const dir = tempDir();
    const pm = manifest({ net: ['api.example.com'], fs: [{ slot: 'data', access: 'write' }] });
    const slots = await bindSlots(pm, { data: dir }, 'pkg');
    const { grant, paths } = await effectiveGrant(pm, slots, [], parseFsGrant([]), 'pkg');
    expect(grant.net.rules).toEqual([]);
    expect(grant.fs.rules).toEqual([]);
    expect(paths).toEqual({});
  });

  it("names whose fault a bad rule is: the manifest's (MANIFEST_INVALID) or the user's (GRANT_INVALID)", async () => {
    await expect(effectiveGrant(manifest({ net: ['http://'] }), {}, [], parseFsGrant([]), 'pkg')).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
    await expect(effectiveGrant(manifest({ net: ['api.example.com'] }), {}, ['http://'], parseFsGrant([]), 'pkg')).rejects.toMatchObject({ code: 'GRANT_INVALID' });
    await expect(bindSlots(manifest({ fs: [{ slot: 'data', access: 'read' }] }), { data: '/does/not/exist/at/all' }, 'pkg')).rejects.toMatchObject({ code: 'GRANT_INVALID' });
  });
});
