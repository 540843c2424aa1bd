/**
 * What serve loads is bound to a verification it can re-check: a lock record another writer edited
 * (digests, grant), a planted unsigned package, or a signer no longer in trust.json is refused.
 */
import { appendFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLock } from '../../../host/home/home.ts';
import type { LockEntry } from '../../../host/home/home.ts';
import { readSealKey, sealEntry, sealMatches } from '../../../host/home/seal.ts';
import { verifyInstalled } from '../../../host/home/verify-installed.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';
import { testHome } from '../../helpers/home-fixture.ts';
import { digestTree } from '../../helpers/installed.ts';
import { atomicWrite } from '../../../host/home/files.ts';
import { tempDir } from '../../helpers/tool-package.ts';

type Lock = { version: 1; packages: Record<string, LockEntry> };

function editLock(lockFile: string, edit: (lock: Lock) => void): void {
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as Lock;
  edit(lock);
  writeFileSync(lockFile, JSON.stringify(lock));
}

async function verdict(t: Awaited<ReturnType<typeof testHome>>, name: string): Promise<string> {
  const lock = await readLock(t.home);
  return asyncCodeOf(() => verifyInstalled({ name, ...(lock.packages[name] as LockEntry) }, t.home));
}

describe('lock entries are sealed at install and checked at serve', () => {
  it('serves an installed package whose record is as install wrote it', async () => {
    const t = await testHome();
    await t.install('echo');
    expect(await verdict(t, 'echo')).toBe('<no error>');
    expect((await readSealKey(t.home))?.length).toBe(32);
  });

  it('refuses a record whose grant another writer widened (INTEGRITY_MISMATCH)', async () => {
    const t = await testHome();
    await t.install('echo');
    editLock(t.home.lockFile, (l) => {
      (l.packages.echo as unknown as { grant: { net: string[] } }).grant.net = ['https://evil.example'];
    });
    expect(await verdict(t, 'echo')).toBe('INTEGRITY_MISMATCH');
  });

  it('refuses a package whose files and recorded digests were both rewritten (INTEGRITY_MISMATCH)', async () => {
    const t = await testHome();
    const r = await t.install('echo');
    const dir = join(t.home.dir, r.entry.dir);
    appendFileSync(join(dir, 'index.js'), '\nexport const backdoor = 1;\n');
    editLock(t.home.lockFile, (l) => {
      (l.packages.echo as unknown as { files: Record<string, string> }).files = digestTree(dir);
    });
    expect(await verdict(t, 'echo')).toBe('INTEGRITY_MISMATCH');
  });

  it('refuses a planted package with a lock record and digests but no signature (SIGNATURE_INVALID)', async () => {
    const t = await testHome();
    const r = await t.install('echo');
    const planted = join(t.home.packagesDir, 'planted@1.0.0');
    mkdirSync(planted);
    cpSync(join(t.home.dir, r.entry.dir), planted, { recursive: true });
    writeFileSync(join(planted, 'package.json'), readFileSync(join(planted, 'package.json'), 'utf8').replace('"echo"', '"planted"'));
    editLock(t.home.lockFile, (l) => {
      l.packages.planted = { ...(l.packages.echo as LockEntry), integrity: `sha512-${'B'.repeat(86)}==`, dir: 'packages/planted@1.0.0', files: digestTree(planted), seal: `hmac-sha256-${'A'.repeat(43)}` };
    });
    expect(await verdict(t, 'planted')).toBe('SIGNATURE_INVALID');
    expect(await verdict(t, 'echo')).toBe('<no error>');
  });

  it('refuses a package whose signer was removed from trust.json since install (UNTRUSTED_SIGNER)', async () => {
    const t = await testHome();
    await t.install('echo');
    await atomicWrite(t.home.trustFile, '{"publishers":[]}');
    expect(await verdict(t, 'echo')).toBe('UNTRUSTED_SIGNER');
  });

  it('refuses an unsealed record whose kept signed copy is no longer trusted (UNTRUSTED_SIGNER)', async () => {
    const t = await testHome();
    await t.install('echo');
    rmSync(t.home.sealKey);
    await atomicWrite(t.home.trustFile, '{"publishers":[]}');
    expect(await verdict(t, 'echo')).toBe('UNTRUSTED_SIGNER');
  });

  it('a seal made with another key does not check', async () => {
    const t = await testHome();
    await t.install('echo');
    editLock(t.home.lockFile, (l) => {
      l.packages.echo = sealEntry(Buffer.alloc(32, 7), 'echo', l.packages.echo as LockEntry);
    });
    expect(await verdict(t, 'echo')).toBe('INTEGRITY_MISMATCH');
  });

  it('checks what lock.json holds: a member JSON drops (undefined) or another key order does not change the seal', async () => {
    const t = await testHome();
    await t.install('echo');
    const key = Buffer.alloc(32, 9);
    const entry = (await readLock(t.home)).packages.echo as LockEntry;
    const sealed = sealEntry(key, 'echo', { ...entry, note: undefined } as LockEntry);
    const reordered = Object.fromEntries(Object.entries(JSON.parse(JSON.stringify(sealed)) as Record<string, unknown>).reverse()) as unknown as LockEntry;
    expect(sealMatches(key, 'echo', reordered)).toBe(true);
  });

  it('refuses a short lock.key (KEY_INVALID)', async () => {
    const t = await testHome();
    await t.install('echo');
    writeFileSync(t.home.sealKey, '', { mode: 0o600 });
    expect(await verdict(t, 'echo')).toBe('KEY_INVALID');
  });
});

describe('an update never carries over a grant another writer recorded', () => {
  it('drops the forged binding of an unsealed record and asks for consent again', async () => {
    const t = await testHome();
    const secret = tempDir('mcpw-secret-');
    await t.install('echo', '1.0.0', { fs: [{ slot: 'out', access: 'write' }] });
    editLock(t.home.lockFile, (l) => {
      const e = l.packages.echo as unknown as { grant: { fs: string[]; slots: Record<string, string> } };
      e.grant.fs = [`write:${secret}`];
      e.grant.slots = { out: secret };
    });
    const r = await t.install('echo', '1.1.0', { fs: [{ slot: 'out', access: 'write' }] });
    expect(r.entry.grant).toEqual({ net: [], fs: [], slots: {} });
    expect(r.unbound.map((s) => s.slot)).toEqual(['out']);
    expect(await verdict(t, 'echo')).toBe('<no error>');
  });
});
