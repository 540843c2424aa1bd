import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAudit } from '../../../host/serve/audit.ts';
import { AUDIT_KEY_BYTES, readAuditKey } from '../../../host/serve/audit-key.ts';
import { argsDigest } from '../../../host/serve/audit-records.ts';
import { tempDir } from '../../helpers/host.ts';

describe('the audit key (issue 8, item 5)', () => {
  const digestUnder = (key: Buffer) => argsDigest(key, { pin: '1234' });

  it.each([
    ['empty (a disk that filled at first start)', ''],
    ['short', 'ab'.repeat(8)],
    ['malformed', 'not a key at all, not hex'],
  ])('replaces a key file that is %s with a full random key, atomically and with a warning, and never uses it', async (_what, content) => {
    const dir = tempDir('audit-key');
    const keyPath = join(dir, 'audit.key');
    writeFileSync(keyPath, content, { mode: 0o600 });
    const warnings: string[] = [];
    const audit = await openAudit(join(dir, 'audit.log'), keyPath, { warn: (m) => warnings.push(m) });
    await audit.close();
    const text = readFileSync(keyPath, 'utf8');
    expect(text).toMatch(new RegExp(`^[0-9a-f]{${AUDIT_KEY_BYTES * 2}}$`));
    expect(warnings).toEqual([expect.stringMatching(/audit key .* was (empty|short|malformed); a new 32-byte key replaces it/)]);
    // The digests are made under the new key, not under the damaged one.
    expect(audit.digest({ pin: '1234' })).toBe(digestUnder(Buffer.from(text, 'hex')));
    expect(audit.digest({ pin: '1234' })).not.toBe(digestUnder(Buffer.from(content.trim(), 'hex')));
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    // No temporary file is left behind.
    expect(readdirSync(dir).sort()).toEqual(['audit.key', 'audit.log']);
  });

  it('keeps a good key across restarts, without a warning', async () => {
    const dir = tempDir('audit-key');
    const warnings: string[] = [];
    const a = await openAudit(join(dir, 'audit.log'), join(dir, 'audit.key'), { warn: (m) => warnings.push(m) });
    const first = a.digest({ x: 1 });
    await a.close();
    const b = await openAudit(join(dir, 'audit.log'), join(dir, 'audit.key'), { warn: (m) => warnings.push(m) });
    expect(b.digest({ x: 1 })).toBe(first);
    await b.close();
    expect(warnings).toEqual([]);
  });

  it('gives concurrent first starts one key', async () => {
    const dir = tempDir('audit-key');
    const audits = await Promise.all(Array.from({ length: 8 }, () => openAudit(join(dir, 'audit.log'), join(dir, 'audit.key'), { warn: () => {} })));
    expect(new Set(audits.map((a) => a.digest({ x: 1 }))).size).toBe(1);
    await Promise.all(audits.map((a) => a.close()));
  });
});

describe('readAuditKey', () => {
  it('reads a full key and never makes one', async () => {
    const dir = tempDir('audit-key');
    expect(await readAuditKey(join(dir, 'audit.key'))).toBeNull();
    expect(readdirSync(dir)).toEqual([]);
    writeFileSync(join(dir, 'audit.key'), 'ab'.repeat(AUDIT_KEY_BYTES), { mode: 0o600 });
    expect(await readAuditKey(join(dir, 'audit.key'))).toEqual(Buffer.alloc(AUDIT_KEY_BYTES, 0xab));
  });

  it.each([['empty', ''], ['short', 'ab'.repeat(8)], ['malformed', 'zz'.repeat(AUDIT_KEY_BYTES)]])('answers null for a key that is %s', async (_what, content) => {
    const dir = tempDir('audit-key');
    writeFileSync(join(dir, 'audit.key'), content, { mode: 0o600 });
    expect(await readAuditKey(join(dir, 'audit.key'))).toBeNull();
  });
});
