import { chmodSync, closeSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GENESIS, lineHash } from '../../../host/serve/audit-chain.ts';
import { openAudit } from '../../../host/serve/audit.ts';
import { anchorOf, appendAll, openPrivateAppendSync, tailOf } from '../../../host/serve/audit-file.ts';
import { tempDir } from '../../helpers/host.ts';

describe('audit log writes (issue 8, items 25 and 30)', () => {
  it('tightens an existing world-readable audit log to 0600', async () => {
    const dir = tempDir('audit-mode');
    writeFileSync(join(dir, 'audit.log'), '');
    chmodSync(join(dir, 'audit.log'), 0o644);
    const audit = await openAudit(join(dir, 'audit.log'), join(dir, 'audit.key'));
    await audit.close();
    expect(statSync(join(dir, 'audit.log')).mode & 0o777).toBe(0o600);
  });

});

describe('openPrivateAppendSync and appendAll', () => {
  it('creates the file 0600 and appends whole texts, returning their byte length', () => {
    const path = join(tempDir('audit-file'), 'audit.log');
    const fd = openPrivateAppendSync(path);
    try {
      expect(appendAll(fd, 'é\n')).toBe(3);
      expect(appendAll(fd, 'b\n')).toBe(2);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path, 'utf8')).toBe('é\nb\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

describe('tailOf', () => {
  it('hashes the last complete line, and tells whether the file ends with a newline', () => {
    const path = join(tempDir('audit-file'), 'audit.log');
    writeFileSync(path, '{"a":1}\n{"b":2}\n');
    expect(tailOf(path)).toEqual({ last: lineHash('{"b":2}'), endsWithNewline: true });
    writeFileSync(path, '{"a":1}\n{"b":2}\n{"cut');
    expect(tailOf(path)).toEqual({ last: lineHash('{"b":2}'), endsWithNewline: false });
  });

  it('has no last line for a missing or empty file', () => {
    const dir = tempDir('audit-file');
    expect(tailOf(join(dir, 'none'))).toEqual({ last: null, endsWithNewline: true });
    writeFileSync(join(dir, 'empty'), '');
    expect(tailOf(join(dir, 'empty'))).toEqual({ last: null, endsWithNewline: true });
  });

  it('never takes the cut start of its 64 KiB window for a line', () => {
    const path = join(tempDir('audit-file'), 'audit.log');
    writeFileSync(path, `${'x'.repeat(70 * 1024)}\n{"last":1}\n`);
    expect(tailOf(path).last).toBe(lineHash('{"last":1}'));
    writeFileSync(path, `${'x'.repeat(70 * 1024)}\n`);
    expect(tailOf(path).last).toBeNull();
  });
});

describe('anchorOf', () => {
  it('links to the log\'s last line, else to its newest rotated file\'s, else to GENESIS', () => {
    const dir = tempDir('audit-file');
    const log = join(dir, 'audit.log');
    expect(anchorOf(log).prev).toBe(GENESIS);
    writeFileSync(`${log}.1`, '{"r":1}\n');
    expect(anchorOf(log).prev).toBe(lineHash('{"r":1}'));
    writeFileSync(log, '{"c":1}\n');
    expect(anchorOf(log).prev).toBe(lineHash('{"c":1}'));
  });
});
