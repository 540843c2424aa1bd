import { createHash, createHmac } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineHash, openRecord, recordKey, verifyChain } from '../../../host/serve/audit-chain.ts';
import type { LogFile } from '../../../host/serve/audit-chain.ts';
import { openAudit } from '../../../host/serve/audit.ts';
import { tempDir } from '../../helpers/host.ts';

const NOBODY_RUNS = { isRunning: () => false, rotatedAway: false };
const ROTATED = { isRunning: () => false, rotatedAway: true };

/** A closed log of `calls` call records written by the real writer; its key and its lines. */
async function writeLog(calls: number, config?: { maxBytes: number; keep: number }): Promise<{ dir: string; key: Buffer; files: () => LogFile[] }> {
  const dir = tempDir('audit-chain');
  const audit = await openAudit(join(dir, 'audit.log'), join(dir, 'audit.key'), config ? { config } : {});
  for (let i = 0; i < calls; i++) audit.call({ package: 'p', version: '1.0.0', tool: `t${i}`, argsDigest: audit.digest({ i }), durationMs: i, outcome: 'ok' });
  await audit.close();
  const key = Buffer.from(readFileSync(join(dir, 'audit.key'), 'utf8').trim(), 'hex');
  const files = (): LogFile[] => {
    const rotated = readdirSync(dir)
      .map((n) => /^audit\.log\.(\d+)$/.exec(n)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => b - a);
    return [...rotated.map((n) => `audit.log.${n}`), 'audit.log'].map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
  };
  return { dir, key, files };
}

function withLines(file: LogFile, edit: (lines: string[]) => string[]): LogFile {
  const lines = file.text.split('\n').slice(0, -1);
  return { name: file.name, text: `${edit(lines).join('\n')}\n` };
}

describe('verifyChain', () => {
  it('accepts a clean log: every record sealed and linked, opened and closed', async () => {
    const { key, files } = await writeLog(5);
    const v = verifyChain(files(), recordKey(key), NOBODY_RUNS);
    expect(v).toMatchObject({ ok: true, records: 7, problems: [] });
  });

  describe('when one record was edited', () => {
    it('names the edited line (its HMAC no longer matches)', async () => {
      const { key, files } = await writeLog(5);
      const [log] = files() as [LogFile];
      const edited = withLines(log, (l) => l.map((line, i) => (i === 3 ? line.replace('"outcome":"ok"', '"outcome":"NO"') : line)));
      const v = verifyChain([edited], recordKey(key), NOBODY_RUNS);
      expect(v.ok).toBe(false);
      expect(v.problems).toEqual([expect.objectContaining({ kind: 'edited', file: 'audit.log', line: 4 })]);
    });
  });

  describe('when an edited record is re-chained without the audit key', () => {
    it('still fails: the following hashes can be recomputed by anyone, the HMACs cannot', async () => {
      const { key, files } = await writeLog(5);
      const [log] = files() as [LogFile];
      // The attacker edits line 3 and re-seals it and every later line with a key of their own, fixing every `prev`.
      const forged = recordKey(Buffer.alloc(32, 7));
      const lines = log.text.split('\n').slice(0, -1);
      let prev = lineHash(lines[1] as string);
      const out = lines.slice(0, 2);
      for (const line of lines.slice(2)) {
        const body = JSON.parse(line) as Record<string, unknown>;
        delete body.mac;
        if (body.tool === 't1') body.outcome = 'NO';
        const text = JSON.stringify({ ...body, prev });
        const sealed = `${text.slice(0, -1)},"mac":"${createHmac('sha256', forged).update(text).digest('hex')}"}`;
        out.push(sealed);
        prev = createHash('sha256').update(sealed).digest('hex');
      }
      const v = verifyChain([{ name: 'audit.log', text: `${out.join('\n')}\n` }], recordKey(key), NOBODY_RUNS);
      expect(v.ok).toBe(false);
      expect(v.problems.map((p) => [p.kind, p.line])).toEqual([3, 4, 5, 6, 7].map((n) => ['edited', n]));
      // The links themselves are consistent: only the key gives the forgery away.
      expect(v.problems.some((p) => p.kind !== 'edited')).toBe(false);
    });
  });

  describe('when a record was removed', () => {
    it('names the line after the gap', async () => {
      const { key, files } = await writeLog(5);
      const [log] = files() as [LogFile];
      const v = verifyChain([withLines(log, (l) => l.filter((_, i) => i !== 2))], recordKey(key), NOBODY_RUNS);
      expect(v.problems).toEqual([expect.objectContaining({ kind: 'removed', line: 3, message: expect.stringMatching(/missing between audit.log:2 and this line/) })]);
    });

    it('finds the first record removed (the serve\'s "opened" record)', async () => {
      const { key, files } = await writeLog(2);
      const [log] = files() as [LogFile];
      const v = verifyChain([withLines(log, (l) => l.slice(1))], recordKey(key), NOBODY_RUNS);
      expect(v.problems).toEqual([expect.objectContaining({ kind: 'removed', line: 1 })]);
    });
  });

  describe('when two records were swapped', () => {
    it('reports them out of order', async () => {
      const { key, files } = await writeLog(5);
      const [log] = files() as [LogFile];
      const swapped = withLines(log, (l) => [l[0], l[1], l[3], l[2], ...l.slice(4)] as string[]);
      const v = verifyChain([swapped], recordKey(key), NOBODY_RUNS);
      expect(v.ok).toBe(false);
      expect(v.problems[0]).toEqual(expect.objectContaining({ kind: 'reordered', line: 3, message: 'out of order: it was written after audit.log:4' }));
      expect(v.problems.every((p) => p.kind === 'reordered')).toBe(true);
    });
  });

  describe('when the file was truncated', () => {
    it('in the middle of a record: names the cut line', async () => {
      const { key, files } = await writeLog(5);
      const [log] = files() as [LogFile];
      const cut = { name: log.name, text: log.text.slice(0, log.text.length - 40) };
      const v = verifyChain([cut], recordKey(key), NOBODY_RUNS);
      expect(v.problems).toContainEqual(expect.objectContaining({ kind: 'truncated', line: 7, message: expect.stringMatching(/middle of a record/) }));
    });

    it('at a line boundary: the serve\'s records end without its "closed" record', async () => {
      const { key, files } = await writeLog(5);
      const [log] = files() as [LogFile];
      const v = verifyChain([withLines(log, (l) => l.slice(0, 4))], recordKey(key), NOBODY_RUNS);
      expect(v.problems).toEqual([expect.objectContaining({ kind: 'truncated', message: expect.stringMatching(/end at audit.log:4 without its "closed" record/) })]);
    });

    it('but a serve that is still running has simply not closed yet', async () => {
      const { key, files } = await writeLog(5);
      const [log] = files() as [LogFile];
      const v = verifyChain([withLines(log, (l) => l.slice(0, 4))], recordKey(key), { isRunning: () => true, rotatedAway: false });
      expect(v.ok).toBe(true);
      expect(v.notes).toEqual([expect.stringMatching(/has not closed its log yet/)]);
    });
  });

  it('opens a record only under the key that sealed it', async () => {
    const { key, files } = await writeLog(1);
    const line = (files()[0] as LogFile).text.split('\n')[1] as string;
    expect(openRecord(recordKey(key), line)).toMatchObject({ type: 'call', tool: 't0' });
    expect(openRecord(recordKey(Buffer.alloc(32)), line)).toBe('edited');
  });
});

describe('rotation', () => {
  it('rotates past maxBytes, keeps `keep` files, and the chain verifies across them', async () => {
    const { dir, key, files } = await writeLog(60, { maxBytes: 2000, keep: 3 });
    expect(existsSync(join(dir, 'audit.log.3'))).toBe(true);
    expect(existsSync(join(dir, 'audit.log.4'))).toBe(false);
    const all = files();
    expect(all.map((f) => f.name)).toEqual(['audit.log.3', 'audit.log.2', 'audit.log.1', 'audit.log']);
    // Each file after the first starts with a "rotated" record carrying the previous file's last hash.
    for (let i = 1; i < all.length; i++) {
      const first = JSON.parse((all[i] as LogFile).text.split('\n')[0] as string) as Record<string, unknown>;
      const prevLines = (all[i - 1] as LogFile).text.split('\n').slice(0, -1);
      expect(first).toMatchObject({ type: 'audit', event: 'rotated', prev: lineHash(prevLines.at(-1) as string) });
    }
    const v = verifyChain(all, recordKey(key), ROTATED);
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    // The oldest kept file follows files rotation deleted: said, not an error.
    expect(v.notes).toEqual([expect.stringMatching(/audit.log.3 continues a log file no longer kept/)]);
  });

  it('detects a rotated file removed from the middle', async () => {
    const { key, files } = await writeLog(60, { maxBytes: 2000, keep: 3 });
    const all = files().filter((f) => f.name !== 'audit.log.2');
    const v = verifyChain(all, recordKey(key), ROTATED);
    expect(v.problems[0]).toEqual(expect.objectContaining({ kind: 'removed', file: 'audit.log.1', line: 1 }));
  });
});

describe('a log written before the chain existed', () => {
  it('counts its unsealed records as a note, and the chain that follows them verifies', async () => {
    const dir = tempDir('audit-legacy');
    const legacy = `${JSON.stringify({ time: '2029-01-01T00:00:00.000Z', type: 'call', package: 'old', tool: 't', outcome: 'ok' })}\n`;
    writeFileSync(join(dir, 'audit.log'), legacy.repeat(3), { mode: 0o600 });
    const audit = await openAudit(join(dir, 'audit.log'), join(dir, 'audit.key'));
    audit.call({ package: 'p', version: '1.0.0', tool: 't', argsDigest: 'd', durationMs: 1, outcome: 'ok' });
    await audit.close();
    const key = Buffer.from(readFileSync(join(dir, 'audit.key'), 'utf8').trim(), 'hex');
    const text = readFileSync(join(dir, 'audit.log'), 'utf8');
    const v = verifyChain([{ name: 'audit.log', text }], recordKey(key), NOBODY_RUNS);
    expect(v).toMatchObject({ ok: true, records: 3, notes: ['3 record(s) written before the hash chain was introduced (not verifiable)'] });
    // An unsealed line after the first sealed record is not "legacy": it was inserted.
    const inserted = text.replace(/\n(?=[^\n]*"type":"call","package":"p")/, `\n${legacy}`);
    expect(verifyChain([{ name: 'audit.log', text: inserted }], recordKey(key), NOBODY_RUNS).problems).toEqual([expect.objectContaining({ kind: 'edited', line: 5 })]);
  });
});

describe('two serves appending to one log', () => {
  it('keeps one chain per serve, and the interleaved log verifies', async () => {
    const dir = tempDir('audit-two');
    const a = await openAudit(join(dir, 'audit.log'), join(dir, 'audit.key'));
    const b = await openAudit(join(dir, 'audit.log'), join(dir, 'audit.key'));
    for (let i = 0; i < 4; i++) {
      a.call({ package: 'a', version: '1.0.0', tool: 't', argsDigest: 'd', durationMs: i, outcome: 'ok' });
      b.call({ package: 'b', version: '1.0.0', tool: 't', argsDigest: 'd', durationMs: i, outcome: 'ok' });
    }
    await a.close();
    await b.close();
    const key = Buffer.from(readFileSync(join(dir, 'audit.key'), 'utf8').trim(), 'hex');
    const v = verifyChain([{ name: 'audit.log', text: readFileSync(join(dir, 'audit.log'), 'utf8') }], recordKey(key), NOBODY_RUNS);
    expect(v).toMatchObject({ ok: true, records: 12 });
  });
});
