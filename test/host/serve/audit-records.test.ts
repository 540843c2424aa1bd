import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../host/canonical-json.ts';
import { openAudit } from '../../../host/serve/audit.ts';
import { argsDigest, capabilityEntries, inCanonicalOrder } from '../../../host/serve/audit-records.ts';
import { tempDir } from '../../helpers/host.ts';

describe('argsDigest', () => {
  it('is keyed: the same arguments give different digests under different keys', () => {
    const args = { pin: '1234' };
    expect(argsDigest(Buffer.alloc(32, 1), args)).toBe(argsDigest(Buffer.alloc(32, 1), { pin: '1234' }));
    expect(argsDigest(Buffer.alloc(32, 1), args)).not.toBe(argsDigest(Buffer.alloc(32, 2), args));
    expect(argsDigest(Buffer.alloc(32, 1), args)).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  });
});

describe('argsDigest from the arguments\' JSON (issue 14: serialized once)', () => {
  const key = Buffer.alloc(32, 7);
  const values: unknown[] = [
    { text: 'hello' },
    { b: 1, a: 2 },
    { a: { d: [1, { z: 1, y: 2 }], c: 'x' } },
    { 10: 'a', 9: 'b', x: 1 },
    { 1: 'a', 2: 'b', a: 1 },
    { a: 1, 1: 'x' },
    { é: 1, e: 2, Z: 3 },
    JSON.parse('{"__proto__":{"b":1,"a":2},"x":1}'),
    JSON.parse('{"a":1,"__proto__":1}'),
    [{ b: 1, a: 2 }, 'x', null, 1.5],
    { json: JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ id: i, name: `row-${i}` }))) },
    { a: undefined, b: [undefined] },
    { d: new Date(0) },
    Object.assign(Object.create(null) as object, { b: 1, a: 2 }),
  ];
  for (const v of values) {
    it(`gives the canonical digest for ${JSON.stringify(v)?.slice(0, 60)}`, () => {
      expect(argsDigest(key, v, JSON.stringify(v))).toBe(`hmac-sha256:${createHmac('sha256', key).update(canonicalJson(v)).digest('hex')}`);
    });
  }

  it('uses the JSON as it is only when it is the canonical text', () => {
    for (const v of values) if (inCanonicalOrder(v)) expect(JSON.stringify(v)).toBe(canonicalJson(v));
    expect(inCanonicalOrder({ text: 'hello' })).toBe(true);
    expect(inCanonicalOrder({ b: 1, a: 2 })).toBe(false);
    expect(inCanonicalOrder({ 10: 'a', 9: 'b' })).toBe(false);
    expect(inCanonicalOrder({ d: new Date(0) })).toBe(false);
  });
});

describe('dlp records (issue 10, data-loss prevention)', () => {
  it('writes a dlp record per finding, and a fetch\'s findings as dlp records instead of a capability line', async () => {
    const dir = tempDir('audit-dlp');
    const audit = await openAudit(join(dir, 'audit.log'), join(dir, 'audit.key'), { now: () => new Date('2030-01-01T00:00:00Z') });
    audit.dlp({ package: 'p', tool: 't', detector: 'card', action: 'redact', where: 'result', count: 2 });
    audit.capability('p', 't', { kind: 'net', op: 'POST', target: 'https://api.example.com:443', allowed: false, dlp: [{ detector: 'jwt', action: 'block', where: 'fetch-body', count: 1 }] });
    await audit.close();
    // The records themselves: without the chain's own (opened/closed) records and fields (audit-chain.ts).
    const lines = readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => r.type !== 'audit')
      .map(({ w: _w, prev: _p, mac: _m, ...r }) => r);
    expect(lines).toEqual([
      { time: '2030-01-01T00:00:00.000Z', type: 'dlp', package: 'p', tool: 't', detector: 'card', action: 'redact', where: 'result', count: 2 },
      { time: '2030-01-01T00:00:00.000Z', type: 'dlp', package: 'p', tool: 't', detector: 'jwt', action: 'block', where: 'fetch-body', count: 1 },
    ]);
  });
});

describe('capabilityEntries', () => {
  it('makes one capability record of a decision, with its code only when it has one', () => {
    expect(capabilityEntries('p', 't', { kind: 'fs', op: 'read', target: '/x', allowed: true })).toEqual([['capability', { package: 'p', tool: 't', kind: 'fs', op: 'read', target: '/x', allowed: true }]]);
    expect(capabilityEntries('p', 't', { kind: 'net', op: 'GET', target: 'https://a.example:443', allowed: false, code: 'NET_NOT_GRANTED' })[0]?.[1]).toMatchObject({ code: 'NET_NOT_GRANTED' });
  });

  it('makes a dlp record of each finding of a fetch, and no capability record', () => {
    const entries = capabilityEntries('p', 't', { kind: 'net', op: 'POST', target: 'https://a.example:443', allowed: false, dlp: [{ detector: 'jwt', action: 'block', where: 'fetch-body', count: 1 }, { detector: 'card', action: 'redact', where: 'fetch-url', count: 2 }] });
    expect(entries.map(([type]) => type)).toEqual(['dlp', 'dlp']);
    expect(entries[1]?.[1]).toEqual({ package: 'p', tool: 't', detector: 'card', action: 'redact', where: 'fetch-url', count: 2 });
  });
});
