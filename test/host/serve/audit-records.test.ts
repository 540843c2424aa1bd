import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../host/canonical-json.ts';
import { openAudit } from '../../../host/serve/audit.ts';
import { argsDigest, capabilityEntries, DIGEST_RAW_MIN, inCanonicalOrder } from '../../../host/serve/audit-records.ts';
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

describe('argsDigest of long top-level strings (issue 14: MACed unescaped)', () => {
  const key = Buffer.alloc(32, 7);
  const hmac = (...parts: string[]) => {
    const h = createHmac('sha256', key);
    for (const p of parts) h.update(p);
    return `hmac-sha256:${h.digest('hex')}`;
  };
  const long = `[{"a":"quote \\" and newline \n"},${'x'.repeat(DIGEST_RAW_MIN)}]\n😀`;

  it('is the HMAC of the rest\'s canonical JSON, a newline, and each long member as <length>:<key><length>:<value> in key order', () => {
    const other = 'y'.repeat(DIGEST_RAW_MIN);
    const args = { z: other, n: 1, json: long, b: { d: 1, c: 2 } };
    expect(argsDigest(key, args)).toBe(hmac(`{"b":{"c":2,"d":1},"n":1}\n4:json${long.length}:${long}1:z${other.length}:${other}`));
    expect(argsDigest(key, { json: long })).toBe(hmac(`{}\n4:json${long.length}:${long}`));
  });

  it('gives the same digest whatever the members\' order, and with the JSON given or not', () => {
    const a = { json: long, n: 1 };
    const b = { n: 1, json: long };
    expect(argsDigest(key, a)).toBe(argsDigest(key, b));
    expect(argsDigest(key, a, JSON.stringify(a))).toBe(argsDigest(key, b));
  });

  it('keeps a string one unit short of the bound, a lone surrogate, a nested long string and an array in canonical JSON', () => {
    for (const v of [{ s: 'x'.repeat(DIGEST_RAW_MIN - 1) }, { s: `${'x'.repeat(DIGEST_RAW_MIN)}\ud800` }, { o: { s: long } }, [long]]) {
      expect(argsDigest(key, v)).toBe(hmac(canonicalJson(v)));
    }
  });

  it('keeps an own "__proto__" key a key', () => {
    const args = JSON.parse(`{"__proto__":${JSON.stringify(long)},"x":{"__proto__":1}}`) as object;
    expect(argsDigest(key, args)).toBe(hmac(`{"x":{"__proto__":1}}\n9:__proto__${long.length}:${long}`));
  });

  it('tells apart arguments whose texts could be confused', () => {
    const L = 'a'.repeat(DIGEST_RAW_MIN);
    const variants: unknown[] = [
      { s: L },
      { s: `${L}a` },
      { s: L, t: L },
      { s: `${L}1:t${L.length}:${L}` },
      { 's\n': L },
      { s: L, n: null },
      { s: L, n: '' },
      { s: 'a'.repeat(DIGEST_RAW_MIN - 1) },
      { s: `${L}\ud800` },
      { s: [L] },
    ];
    const digests = variants.map((v) => argsDigest(key, v));
    expect(new Set(digests).size).toBe(variants.length);
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
