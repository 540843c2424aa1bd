import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { NO_GRANT, inlinePackage, limits, newSandbox } from '../../helpers/sandbox.ts';

// The bootstrap's TextEncoder/TextDecoder (runtime/worker/bootstrap/text.js) convert short inputs in the
// isolate and long ones through the worker (native code). Both must give what Node gives, malformed input
// included (the WHATWG Encoding standard: one U+FFFD per maximal invalid subpart), whichever way a given
// length takes.
const sandbox = newSandbox({ workers: 1 });
afterAll(() => sandbox.close());

const pkg = inlinePackage(`const hex = (b) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');
export default {
  decode: ({ arrays }) => arrays.map((a) => new TextDecoder().decode(new Uint8Array(a))),
  encode: ({ strings }) => strings.map((s) => Array.from(new TextEncoder().encode(s))),
  // A long encoding: its hex, and how its buffer is laid out.
  encodeLong: ({ text }) => {
    const a = new TextEncoder().encode(text);
    const b = new TextEncoder().encode(text);
    a[0] = 0x21;
    return { hex: hex(b), length: b.length, offset: b.byteOffset, bufferBytes: b.buffer.byteLength, shared: a.buffer === b.buffer, afterWrite: a[0] };
  },
  digests: async ({ text }) => {
    const bytes = new TextEncoder().encode(text);
    const out = {};
    for (const alg of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']) out[alg] = hex(await crypto.subtle.digest(alg, bytes));
    // The bytes of a view in the middle of its buffer, of an ArrayBuffer, of a resizable one, and of a
    // 16-bit view: only the viewed bytes count.
    out.middle = hex(await crypto.subtle.digest('SHA-256', bytes.subarray(10, bytes.length - 10)));
    out.buffer = hex(await crypto.subtle.digest({ name: 'SHA-256' }, bytes.buffer));
    const r = new ArrayBuffer(bytes.length, { maxByteLength: bytes.length * 2 });
    new Uint8Array(r).set(bytes);
    out.resizable = hex(await crypto.subtle.digest('SHA-256', r));
    out.u16 = hex(await crypto.subtle.digest('SHA-256', new Uint16Array(bytes.buffer, 0, bytes.length >> 1)));
    // The digest is of the bytes when it is called: a write after the call changes nothing.
    const later = crypto.subtle.digest('SHA-256', bytes);
    bytes.fill(0);
    out.later = hex(await later);
    // A detached buffer, and a fake that passes instanceof, are refused as before (not hashed as empty).
    const d = new ArrayBuffer(8);
    d.transfer();
    out.detached = await crypto.subtle.digest('SHA-256', d).then(() => 'hashed', (e) => e.constructor.name);
    out.fake = await crypto.subtle.digest('SHA-256', Object.create(ArrayBuffer.prototype)).then(() => 'hashed', (e) => e.constructor.name);
    return out;
  },
}`);

function random(length: number, seed: number): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    // Mostly the bytes that start or continue multi-byte sequences, so most inputs are malformed somewhere.
    out.push(x % 3 === 0 ? 0x41 : 0x80 + (x % 0x80));
  }
  return out;
}

describe('the sandbox\'s UTF-8 conversions', () => {
  it('decode as Node does, malformed sequences included, at every length', async () => {
    const crafted = [[0xe2, 0x82, 0x41], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe0, 0x80, 0x80], [0xff, 0x41], [0xf0, 0x9f, 0x98, 0x80, 0xe2]];
    const arrays = [...crafted, ...[1, 63, 64, 65, 500, 4095, 4096, 4097, 9000].map((n, i) => random(n, i + 1))];
    const r = await sandbox.run(pkg, 'decode', { arrays }, NO_GRANT, limits());
    expect(r.value).toEqual(arrays.map((a) => Buffer.from(a).toString('utf8')));
  });

  it('encode as Node does, lone surrogates included, at every length', async () => {
    const strings = ['héllo ✓ 😀', 'a\ud800b', '\udc00', 'x'.repeat(4095) + '\ud83d', '✓'.repeat(3000), 'é'.repeat(5000)];
    const r = await sandbox.run(pkg, 'encode', { strings }, NO_GRANT, limits());
    expect(r.value).toEqual(strings.map((s) => Array.from(Buffer.from(s, 'utf8'))));
  });

  it('encode 100 KB as Node does, ASCII or not, into an ArrayBuffer of its own of exactly that size (issue 14)', async () => {
    for (const chars of ['é✓😀', 'ascii']) {
      const text = JSON.stringify(Array.from({ length: 1500 }, (_, i) => ({ id: i, name: `row-${i}-${chars}-${'x'.repeat(40)}` })));
      expect(text.length).toBeGreaterThan(100_000);
      const r = await sandbox.run(pkg, 'encodeLong', { text }, NO_GRANT, limits());
      const node = Buffer.from(text, 'utf8');
      expect(r.value).toEqual({ hex: node.toString('hex'), length: node.length, offset: 0, bufferBytes: node.length, shared: false, afterWrite: 0x21 });
    }
  });

  it('digest (crypto.subtle) as node:crypto does, over 100 KB, whole buffers, parts of one and resizable ones (issue 14)', async () => {
    const text = 'é✓ '.repeat(40_000);
    const r = await sandbox.run(pkg, 'digests', { text }, NO_GRANT, limits());
    const bytes = Buffer.from(text, 'utf8');
    const h = (alg: string, b: Uint8Array) => createHash(alg).update(b).digest('hex');
    expect(r.value).toEqual({
      'SHA-1': h('sha1', bytes),
      'SHA-256': h('sha256', bytes),
      'SHA-384': h('sha384', bytes),
      'SHA-512': h('sha512', bytes),
      middle: h('sha256', bytes.subarray(10, bytes.length - 10)),
      buffer: h('sha256', bytes),
      resizable: h('sha256', bytes),
      u16: h('sha256', bytes.subarray(0, (bytes.length >> 1) * 2)),
      later: h('sha256', bytes),
      detached: 'TypeError',
      fake: 'TypeError',
    });
  });
});
