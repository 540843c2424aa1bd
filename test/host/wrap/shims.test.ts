/**
 * The pure shims a wrapped server gets instead of Node's built-ins (host/wrap/shims), compared with
 * Node's own on the same inputs: node:path (POSIX), Buffer encodings, atob/btoa, util.format,
 * StringDecoder across a split UTF-8 sequence, os facts.
 */
import { posix } from 'node:path';
import { StringDecoder as NodeStringDecoder } from 'node:string_decoder';
import { format as nodeFormat } from 'node:util';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHIMS_DIR } from '../../../host/wrap/shims-dir.ts';

// The shims are plain JavaScript for the isolate, loaded here as modules by path.
type AnyFn = (...args: unknown[]) => unknown;
const shim = async (file: string): Promise<Record<string, AnyFn & Record<string, AnyFn>>> => (await import(join(SHIMS_DIR, file))) as Record<string, AnyFn & Record<string, AnyFn>>;

describe('node:path shim', () => {
  it.each([
    ['normalize', ['/a//b/../c/./d/']], ['normalize', ['a/../../b']], ['normalize', ['']], ['normalize', ['/..']],
    ['join', ['/a', 'b', '../c', './d']], ['join', ['', '']], ['join', ['a', '/b']],
    ['resolve', ['/a/b', '../c']], ['resolve', ['/a', '/b', 'c']],
    ['relative', ['/a/b/c', '/a/d']], ['relative', ['/a', '/a/b/c']], ['relative', ['/a/b', '/a/b']],
    ['dirname', ['/a/b/c']], ['dirname', ['/a/b/']], ['dirname', ['a']], ['dirname', ['/']],
    ['basename', ['/a/b/c.txt']], ['basename', ['/a/b/c.txt', '.txt']], ['basename', ['/a/b/']],
    ['extname', ['/a/b.c.d']], ['extname', ['/a/.hidden']], ['extname', ['/a/b']],
    ['isAbsolute', ['/x']], ['isAbsolute', ['x']],
    ['parse', ['/home/u/file.txt']],
  ])('%s(%j) is what node:path.posix answers', async (fn, args) => {
    const path = await shim('path.js');
    expect((path[fn] as AnyFn)(...args)).toEqual((posix as unknown as Record<string, AnyFn>)[fn]?.(...args));
  });
});

describe('Buffer shim', () => {
  const samples = ['', 'hello', 'héllo wörld ✓', '\u0000\u00ff', 'a'.repeat(1000)];
  it.each(['utf8', 'hex', 'base64', 'base64url', 'latin1'])('round-trips and matches Node in %s', async (enc) => {
    const { Buffer: B } = await shim('buffer.js');
    for (const s of samples) {
      const ours = (B as unknown as { from(s: string, e?: string): { toString(e: string): string } }).from(s, 'utf8');
      expect(ours.toString(enc)).toBe(Buffer.from(s, 'utf8').toString(enc as BufferEncoding));
      const back = (B as unknown as { from(s: string, e?: string): { toString(e: string): string } }).from(Buffer.from(s, 'utf8').toString(enc as BufferEncoding), enc);
      expect(back.toString('hex')).toBe(Buffer.from(Buffer.from(s, 'utf8').toString(enc as BufferEncoding), enc as BufferEncoding).toString('hex'));
    }
  });

  it('atob and btoa match the web platform, and atob refuses what is not base64', async () => {
    const b = await shim('buffer.js');
    for (const s of ['', 'a', 'ab', 'abc', 'latin1 \u00e9\u00ff']) {
      expect(b.btoa?.(s)).toBe(btoa(s));
      expect(b.atob?.(btoa(s))).toBe(s);
    }
    expect(() => b.atob?.('not base64!')).toThrow();
  });
});

describe('other shims', () => {
  it('util.format follows Node for the common directives', async () => {
    const util = await shim('util.js');
    for (const args of [['%s is %d years', 'Ada', 36], ['%j', { a: 1 }], ['100%% sure'], ['no directives', 1, 'x']] as unknown[][]) {
      expect(util.format?.(...args)).toBe(nodeFormat(...(args as [string])));
    }
  });

  it('StringDecoder keeps a UTF-8 sequence split across chunks', async () => {
    const { StringDecoder } = await shim('string-decoder.js');
    const bytes = Buffer.from('a✓b€c', 'utf8');
    const ours = new (StringDecoder as unknown as new (e: string) => { write(b: Uint8Array): string; end(): string })('utf8');
    const theirs = new NodeStringDecoder('utf8');
    let a = '';
    let b = '';
    for (let i = 0; i < bytes.length; i++) {
      a += ours.write(bytes.subarray(i, i + 1));
      b += theirs.write(bytes.subarray(i, i + 1));
    }
    expect(a + ours.end()).toBe(b + theirs.end());
  });

  it('os reports fixed facts and the server\'s working directory as its home', async () => {
    const os = await shim('os.js');
    expect([os.platform?.(), os.EOL, os.homedir?.(), os.cpus?.()]).toEqual(['linux', '\n', '/', []]);
  });
});

describe('node:crypto hashes (hash.js over @noble/hashes)', () => {
  const inputs: [string | Uint8Array, string | undefined][] = [['', undefined], ['hello', 'utf8'], ['68656c6c6f', 'hex'], ['aGk=', 'base64'], [new Uint8Array([0, 1, 255]), undefined], ['é✓'.repeat(100), undefined]];
  it.each(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'])('createHash(%s) gives the digest node:crypto gives, in every output encoding', async (alg) => {
    const nodeCrypto = await import('node:crypto');
    const c = await shim('crypto.js');
    for (const [data, enc] of inputs) {
      for (const out of ['hex', 'base64', 'base64url', undefined]) {
        const ours = (c.createHash?.(alg) as { update(d: unknown, e?: string): { update(d: unknown): { digest(e?: string): unknown } } }).update(data, enc).update('tail').digest(out);
        const theirs = nodeCrypto.createHash(alg).update(data as string, enc as BufferEncoding).update('tail').digest(out as 'hex');
        expect(typeof ours === 'string' ? ours : Buffer.from(ours as Uint8Array).toString('hex')).toBe(typeof theirs === 'string' ? theirs : Buffer.from(theirs).toString('hex'));
      }
    }
  });

  it('createHmac gives the MAC node:crypto gives; copy() forks the state; a finished digest refuses more input; an unknown algorithm is refused', async () => {
    const nodeCrypto = await import('node:crypto');
    const c = await shim('crypto.js');
    type D = { update(d: unknown): D; digest(e?: string): string; copy(): D };
    expect((c.createHmac?.('sha256', 'key') as D).update('message').digest('hex')).toBe(nodeCrypto.createHmac('sha256', 'key').update('message').digest('hex'));
    const h = (c.createHash?.('sha256') as D).update('a');
    const fork = h.copy();
    expect(h.update('b').digest('hex')).toBe(nodeCrypto.createHash('sha256').update('ab').digest('hex'));
    expect(fork.digest('hex')).toBe(nodeCrypto.createHash('sha256').update('a').digest('hex'));
    expect(() => h.update('c')).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_HASH_FINALIZED' }));
    expect(() => c.createHash?.('whirlpool')).toThrow(expect.objectContaining({ code: 'ERR_CRYPTO_INVALID_DIGEST' }));
  });
});
