/**
 * Tool names stay unique across scopes: scoped names carry the scope, a collision is refused at install
 * (TOOL_NAME_CONFLICT, home unchanged), and serve refuses both packages of a lock that holds one.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { atomicWrite } from '../../../host/home/files.ts';
import { installedPackages, readLock } from '../../../host/home/home.ts';
import { writeLockAtomic } from '../../../host/home/lock-write.ts';
import { readSealKey, sealEntry } from '../../../host/home/seal.ts';
import { verifyInstalled } from '../../../host/home/verify-installed.ts';
import { MCP_TOOL_NAME, namespacedToolName } from '../../../host/manifest.ts';
import { loadAll } from '../../../host/serve/loader.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';
import { testHome } from '../../helpers/home-fixture.ts';
import { snapshotHome } from '../../helpers/install-fixtures.ts';

describe('namespacedToolName', () => {
  it.each([
    ['text-tools', 'sha256', 'text-tools__sha256'],
    ['@good/read-tools', 'read_file', 'good.read-tools__read_file'],
    ['@evil/read-tools', 'read_file', 'evil.read-tools__read_file'],
    ['a.b_c', 'x', 'a-b-c__x'],
  ])('%s, %s → %s', (pkg, tool, expected) => expect(namespacedToolName(pkg, tool)).toBe(expected));

  it('stays within MCP tool names (charset, 128 characters) for the longest names', () => {
    const name = namespacedToolName(`@${'s'.repeat(100)}/${'n'.repeat(110)}`, 't'.repeat(64));
    expect(name).toMatch(MCP_TOOL_NAME);
    expect(name.endsWith(`__${'t'.repeat(64)}`)).toBe(true);
  });
});

describe('install', () => {
  it('installs two packages of the same name in different scopes, each with its own tool names', async () => {
    const t = await testHome();
    await t.install('@good/read-tools');
    await t.install('@evil/read-tools');
    const { packages, refused } = await loadAll(
      installedPackages(await readLock(t.home)).map((entry) => ({ kind: 'installed' as const, entry })),
      { home: t.home, verify: verifyInstalled },
    );
    expect(refused).toEqual([]);
    expect(packages.flatMap((p) => p.tools.map((x) => x.fullName)).sort()).toEqual(['evil.read-tools__echo', 'good.read-tools__echo']);
  });

  it('refuses a package whose tool name another installed package has (TOOL_NAME_CONFLICT), home unchanged', async () => {
    const t = await testHome();
    await t.install('@good/read-tools');
    const before = snapshotHome(t.home.dir);
    // "@good/read_tools" and "@good/read-tools" map to the same namespace.
    expect(await asyncCodeOf(() => t.install('@good/read_tools'))).toBe('TOOL_NAME_CONFLICT');
    expect(snapshotHome(t.home.dir)).toEqual(before);
    // An update of the installed package itself is no conflict.
    await expect(t.install('@good/read-tools', '1.1.0')).resolves.toMatchObject({ version: '1.1.0' });
  });
});

describe('serve', () => {
  it('refuses both packages of a lock that holds a colliding pair, whatever their order', async () => {
    const a = await testHome();
    await a.install('@good/read-tools');
    const b = await testHome();
    await b.install('@good/read_tools');
    // Merge b's record into a's home as install would have written it (sealed with a's key).
    const lockA = await readLock(a.home);
    const entryB = (await readLock(b.home)).packages['@good/read_tools'];
    if (!entryB) throw new Error('missing');
    cpSync(join(b.home.dir, entryB.dir), join(a.home.dir, entryB.dir), { recursive: true });
    const trustB = JSON.parse(readFileSync(b.home.trustFile, 'utf8')) as { publishers: { name: string }[] };
    const trustA = JSON.parse(readFileSync(a.home.trustFile, 'utf8')) as { publishers: unknown[] };
    await atomicWrite(a.home.trustFile, JSON.stringify({ publishers: [...trustA.publishers, { ...trustB.publishers[0], name: 'other' }] }));
    const key = (await readSealKey(a.home)) as Buffer;
    await writeLockAtomic(a.home, { version: 1, packages: { ...lockA.packages, '@good/read_tools': sealEntry(key, '@good/read_tools', entryB) } });

    const sources = installedPackages(await readLock(a.home)).map((entry) => ({ kind: 'installed' as const, entry }));
    for (const order of [sources, [...sources].reverse()]) {
      const { packages, refused } = await loadAll(order, { home: a.home, verify: verifyInstalled });
      expect(packages).toEqual([]);
      expect(refused.map((r) => [r.label, r.code]).sort()).toEqual([
        ['@good/read-tools', 'TOOL_NAME_CONFLICT'],
        ['@good/read_tools', 'TOOL_NAME_CONFLICT'],
      ]);
    }
  });
});
