/** Grants never overlap the home or the trust root: refused when made, on real paths, by whole segments. */
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { homeLayout } from '../../../host/home/home.ts';
import { pathsOverlap, protectedPaths } from '../../../host/home/protected.ts';
import { bindSlot } from '../../../host/install/grant.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';
import { tempDir } from '../../helpers/tool-package.ts';

describe('pathsOverlap', () => {
  it.each([
    ['/home/u', '/home/u/.mcp-warden', true],
    ['/home/u/.mcp-warden', '/home/u/.mcp-warden', true],
    ['/home/u/.mcp-warden/packages', '/home/u/.mcp-warden', true],
    ['/home/u/.mcp-warden-other', '/home/u/.mcp-warden', false],
    ['/home/u/work', '/home/u/.mcp-warden', false],
    ['/', '/home/u/.mcp-warden', true],
  ])('%s vs %s → %s', (a, b, expected) => expect(pathsOverlap(a, b)).toBe(expected));
});

describe('bindSlot', () => {
  const slot = { slot: 'out', kind: 'path' as const, access: 'write' as const };

  it('refuses a directory containing the home, the home, or one inside it (GRANT_COVERS_HOME)', async () => {
    const user = tempDir('mcpw-grant-');
    const home = homeLayout(join(user, '.mcp-warden'));
    mkdirSync(home.packagesDir, { recursive: true });
    const protect = await protectedPaths(home);
    for (const dir of [user, home.dir, home.packagesDir]) expect(await asyncCodeOf(() => bindSlot(slot, dir, '/', protect))).toBe('GRANT_COVERS_HOME');
    mkdirSync(join(user, 'work'));
    await expect(bindSlot(slot, join(user, 'work'), '/', protect)).resolves.toMatchObject({ fs: `write:${join(user, 'work')}` });
  });

  it('judges the real path: a symlink to the home is refused', async () => {
    const user = tempDir('mcpw-grant-');
    const home = homeLayout(join(user, '.mcp-warden'));
    mkdirSync(home.dir);
    const elsewhere = tempDir('mcpw-grant-link-');
    symlinkSync(user, join(elsewhere, 'innocent'));
    expect(await asyncCodeOf(async () => bindSlot(slot, join(elsewhere, 'innocent'), '/', await protectedPaths(home)))).toBe('GRANT_COVERS_HOME');
  });
});
