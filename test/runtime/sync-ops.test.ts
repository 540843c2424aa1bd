import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { freshArrayBuffer, isArrayBuffer, runSyncOp, utf8Bytes } from '../../runtime/sync-ops.ts';

describe('runSyncOp', () => {
  it('parses a URL against a base into its fields', () => {
    const fields = JSON.parse(runSyncOp('url', '/a?b=1', 'https://example.com/x/') as string) as Record<string, string>;
    expect([fields.href, fields.origin, fields.search]).toEqual(['https://example.com/a?b=1', 'https://example.com', '?b=1']);
  });

  it('answers "null" for an invalid or oversized URL, never throws', () => {
    expect(runSyncOp('url', 'not a url', '')).toBe('null');
    expect(runSyncOp('url', `https://a.example/${'x'.repeat(70000)}`, '')).toBe('null');
    expect(runSyncOp('url', 42, '')).toBe('null');
  });

  it('sets a URL field, but never the origin', () => {
    expect(JSON.parse(runSyncOp('urlSet', 'https://a.example/p', JSON.stringify(['pathname', '/q'])) as string).href).toBe('https://a.example/q');
    expect(runSyncOp('urlSet', 'https://a.example/p', JSON.stringify(['origin', 'https://b.example']))).toBe('null');
    expect(runSyncOp('urlSet', 'https://a.example/p', JSON.stringify(['__proto__', 'x']))).toBe('null');
  });

  it('gives random bytes up to 64 KiB and none for a bad count', () => {
    expect((runSyncOp('random', 16, '') as ArrayBuffer).byteLength).toBe(16);
    expect((runSyncOp('random', 65537, '') as ArrayBuffer).byteLength).toBe(0);
    expect((runSyncOp('random', '16', '') as ArrayBuffer).byteLength).toBe(0);
  });

  it('digests a plain ArrayBuffer, and refuses a SharedArrayBuffer or an unknown algorithm', () => {
    const data = new TextEncoder().encode('abc');
    const out = runSyncOp('digest', 'sha-256', freshArrayBuffer(data)) as ArrayBuffer;
    expect(Buffer.from(out).toString('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(runSyncOp('digest', 'SHA-256', new SharedArrayBuffer(3))).toBe('');
    expect(runSyncOp('digest', 'MD5', freshArrayBuffer(data))).toBe('');
  });

  it('encodes and decodes UTF-8', () => {
    const bytes = runSyncOp('utf8encode', 'héllo', '') as ArrayBuffer;
    expect(runSyncOp('utf8decode', bytes, '')).toBe('héllo');
    expect(runSyncOp('utf8decode', 'not bytes', '')).toBe('');
  });

  it('answers an unknown op with an empty string', () => {
    expect(runSyncOp('exec', 'rm -rf /', '')).toBe('');
  });
});

describe('freshArrayBuffer', () => {
  it('copies exactly the view, never the pooled slab behind a small Buffer', () => {
    const small = Buffer.from('hi');
    const out = freshArrayBuffer(small);
    expect(out.byteLength).toBe(2);
    expect(isArrayBuffer(out)).toBe(true);
    expect(out).not.toBe(small.buffer);
  });
});

describe('utf8Bytes', () => {
  it('gives what Node encodes, in an ArrayBuffer of exactly that size, for ASCII and every other kind of text', () => {
    const texts = [
      '',
      'plain ASCII',
      JSON.stringify(Array.from({ length: 900 }, (_, i) => ({ id: i, name: `ROW-${i}` }))),
      // One-byte but not ASCII, and two-byte: the first try cannot hold them, whatever comes after.
      'caf\u00e9',
      'x'.repeat(5000) + '\u00e9',
      '\u2713'.repeat(3000),
      // Astral characters, a lone surrogate (U+FFFD) at the end and in the middle.
      'a\u{1F600}b',
      'x'.repeat(4095) + '\ud83d',
      'a\udc00b',
    ];
    for (const text of texts) {
      const out = utf8Bytes(text);
      expect(isArrayBuffer(out)).toBe(true);
      expect(Buffer.from(out).equals(Buffer.from(text, 'utf8'))).toBe(true);
      expect(out.byteLength).toBe(Buffer.byteLength(text, 'utf8'));
    }
  });

  it('gives each text a buffer of its own', () => {
    const a = utf8Bytes('same text');
    const b = utf8Bytes('same text');
    new Uint8Array(a)[0] = 0x21;
    expect(new Uint8Array(b)[0]).toBe(0x73);
  });
});
