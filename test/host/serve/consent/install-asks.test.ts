/**
 * Install and ask rules: recorded in the sealed lock entry as asked, never granted; shown on the consent
 * screen as asked at first use; an answer is stored under the home's writer lock and re-sealed, never on
 * an entry someone else changed; an update keeps the answers to rules it still asks.
 */
import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLock } from '../../../../host/home/home.ts';
import { readSealKey, sealMatches } from '../../../../host/home/seal.ts';
import { describeAsks } from '../../../../host/install/consent.ts';
import { parsePackageManifest } from '../../../../host/manifest.ts';
import { storeAnswer } from '../../../../host/serve/consent/store.ts';
import { asyncCodeOf, codeOf } from '../../../helpers/codes.ts';
import { testHome } from '../../../helpers/home-fixture.ts';
import { tempDir } from '../../../helpers/tool-package.ts';

const pkgJson = (capabilities: unknown) => ({ name: 'w', version: '1.0.0', mcpWarden: { entry: 'index.js', tools: [{ name: 't', description: 'd', inputSchema: { type: 'object' } }], capabilities } });

describe('the manifest\'s "consent": "ask"', () => {
  it('parses rule objects apart from the rules install grants, and keeps the flag on slots', () => {
    const pm = parsePackageManifest(pkgJson({ net: ['fixed.example.com', { rule: 'api.example.com', consent: 'ask', description: 'forecasts' }, { slot: 'api', consent: 'ask' }], fs: [{ rule: 'write:/srv/notes', consent: 'ask' }] }));
    expect(pm.manifest.capabilities.net).toEqual(['fixed.example.com', { slot: 'api', consent: 'ask' }]);
    expect(pm.manifest.capabilities.ask).toEqual({ net: [{ rule: 'api.example.com', consent: 'ask', description: 'forecasts' }], fs: [{ rule: 'write:/srv/notes', consent: 'ask' }] });
    expect(parsePackageManifest(pkgJson({ net: ['fixed.example.com'] })).manifest.capabilities.ask).toBeUndefined();
  });

  it.each([
    ['a consent other than "ask"', { net: [{ rule: 'api.example.com', consent: 'always' }] }],
    ['a rule object without consent', { net: [{ rule: 'api.example.com' }] }],
    ['an asked rule that does not parse', { net: [{ rule: 'https://u:p@api.example.com', consent: 'ask' }] }],
    ['an asked file rule that is not absolute', { fs: [{ rule: 'write:notes', consent: 'ask' }] }],
  ])('refuses %s (MANIFEST_INVALID)', (_what, capabilities) => expect(codeOf(() => parsePackageManifest(pkgJson(capabilities)))).toBe('MANIFEST_INVALID'));
});

describe('installing a package with asked capabilities', () => {
  it('records them in the sealed entry, grants none of them, and binds an asked slot without granting it', async () => {
    const t = await testHome();
    const notes = realpathSync(tempDir('mcpw-ask-notes-'));
    const r = await t.install('w', '1.0.0', { net: ['fixed.example.com', { rule: 'https://API.example.com:443', consent: 'ask' }], fs: [{ slot: 'notes', access: 'write', consent: 'ask' }], bindings: { notes } });
    expect(r.entry.grant).toEqual({ net: ['fixed.example.com'], fs: [], slots: { notes } });
    expect(r.entry.asks).toEqual({ net: ['api.example.com'], fs: [`write:${notes}`] });
    const key = await readSealKey(t.home);
    const stored = (await readLock(t.home)).packages.w;
    expect(key && stored && sealMatches(key, 'w', stored)).toBe(true);
  });

  it('shows them on the consent screen as asked at first use, with earlier refusals', () => {
    const text = describeAsks({ net: ['api.example.com'], fs: ['write:/srv/notes'] }, { net: ['api.example.com'], fs: [] });
    expect(text).toContain('Asked at first use (not granted now');
    expect(text).toContain('network  api.example.com (refused earlier: stays refused)');
    expect(text).toContain('files    write:/srv/notes');
    expect(describeAsks({ net: [], fs: [] })).toBe('');
  });

  it('stores an answer re-sealed; an update keeps "always" and "never" for rules it still asks', async () => {
    const t = await testHome();
    await t.install('w', '1.0.0', { net: [{ rule: 'a.example.com', consent: 'ask' }, { rule: 'b.example.com', consent: 'ask' }] });
    expect(await storeAnswer(t.home, 'w', '1.0.0', { kind: 'net', rule: 'a.example.com' }, 'always')).toBe(true);
    expect(await storeAnswer(t.home, 'w', '1.0.0', { kind: 'net', rule: 'b.example.com' }, 'never')).toBe(true);
    // An answer about another version is not stored.
    expect(await storeAnswer(t.home, 'w', '0.9.0', { kind: 'net', rule: 'a.example.com' }, 'never')).toBe(false);
    const key = await readSealKey(t.home);
    const answered = (await readLock(t.home)).packages.w;
    expect(answered?.grant.net).toEqual(['a.example.com']);
    expect(answered?.refusals).toEqual({ net: ['b.example.com'], fs: [] });
    expect(key && answered && sealMatches(key, 'w', answered)).toBe(true);

    const updated = await t.install('w', '1.1.0', { net: [{ rule: 'a.example.com', consent: 'ask' }, { rule: 'b.example.com', consent: 'ask' }, { rule: 'c.example.com', consent: 'ask' }] });
    expect(updated.entry.grant.net).toEqual(['a.example.com']);
    expect(updated.entry.refusals).toEqual({ net: ['b.example.com'], fs: [] });
    expect(updated.entry.asks?.net).toEqual(['a.example.com', 'b.example.com', 'c.example.com']);
  });

  it('never re-seals an entry another writer changed (LOCK_INVALID), and never grants what is not asked (GRANT_INVALID)', async () => {
    const t = await testHome();
    await t.install('w', '1.0.0', { net: [{ rule: 'a.example.com', consent: 'ask' }] });
    expect(await asyncCodeOf(() => storeAnswer(t.home, 'w', '1.0.0', { kind: 'net', rule: 'evil.example.com' }, 'always'))).toBe('GRANT_INVALID');
    const lock = JSON.parse(readFileSync(t.home.lockFile, 'utf8')) as { packages: { w: { asks: { net: string[] } } } };
    lock.packages.w.asks.net.push('evil.example.com');
    writeFileSync(t.home.lockFile, JSON.stringify(lock), { mode: 0o600 });
    expect(await asyncCodeOf(() => storeAnswer(t.home, 'w', '1.0.0', { kind: 'net', rule: 'evil.example.com' }, 'always'))).toBe('LOCK_INVALID');
    expect(JSON.parse(readFileSync(t.home.lockFile, 'utf8')).packages.w.grant.net).toEqual([]);
  });

  it('refuses an asked file rule that reaches the home (GRANT_COVERS_HOME)', async () => {
    const user = tempDir('mcpw-ask-user-');
    const t = await testHome(join(user, '.mcp-warden'));
    mkdirSync(t.home.dir, { recursive: true });
    expect(await asyncCodeOf(() => t.install('w', '1.0.0', { fs: [{ rule: `write:${user}`, consent: 'ask' }] }))).toBe('GRANT_COVERS_HOME');
  });
});

describe('binding an asked slot after install (grant NAME SLOT=VALUE)', () => {
  it('binds it and records its rule as asked, not granted, replacing the old binding\'s rule', async () => {
    const { rebind } = await import('../../../../host/install/regrant.ts');
    const { parsePackageManifest: parse } = await import('../../../../host/manifest.ts');
    const t = await testHome();
    const [one, two] = [realpathSync(tempDir('mcpw-ask-one-')), realpathSync(tempDir('mcpw-ask-two-'))];
    const r = await t.install('w', '1.0.0', { fs: [{ slot: 'notes', access: 'write', consent: 'ask' }], bindings: { notes: one } });
    const pm = parse(pkgJson({ fs: [{ slot: 'notes', access: 'write', consent: 'ask' }] }));
    const next = await rebind(r.entry, pm, { notes: two }, '/', t.home);
    expect(next.grant).toEqual({ net: [], fs: [], slots: { notes: two } });
    expect(next.asks).toEqual({ net: [], fs: [`write:${two}`] });
  });
});
