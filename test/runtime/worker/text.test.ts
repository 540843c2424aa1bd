import { afterAll, describe, expect, it } from 'vitest';
import { NO_GRANT, inlinePackage, limits, newSandbox } from '../../helpers/sandbox.ts';

// The bootstrap's TextEncoder/TextDecoder (runtime/worker/bootstrap/text.js) convert short inputs in the
// isolate and long ones through the worker (native code). Both must give what Node gives, malformed input
// included (the WHATWG Encoding standard: one U+FFFD per maximal invalid subpart), whichever way a given
// length takes.
const sandbox = newSandbox({ workers: 1 });
afterAll(() => sandbox.close());

const pkg = inlinePackage(`export default {
  decode: ({ arrays }) => arrays.map((a) => new TextDecoder().decode(new Uint8Array(a))),
  encode: ({ strings }) => strings.map((s) => Array.from(new TextEncoder().encode(s))),
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
});
