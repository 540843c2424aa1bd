/**
 * Reading what install was given. Downloads are exercised with a stand-in for the remote server (the
 * only thing faked: tests have no network); the caps and the https-only rule are ours.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readInstallSource } from '../../../host/install/source.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';
import { tempDir } from '../../helpers/tool-package.ts';

function remote(routes: Record<string, () => Response>): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = String(input);
    const make = routes[url];
    if (!make) return new Response('not found', { status: 404 });
    const res = make();
    Object.defineProperty(res, 'url', { value: url.includes('redirected') ? 'http://plain.example/x.tgz' : url });
    return res;
  }) as typeof fetch;
}

describe('readInstallSource', () => {
  it('downloads a tarball and its bundle over https', async () => {
    const f = remote({ 'https://x.example/p.tgz': () => new Response('tgz'), 'https://x.example/p.tgz.sigstore.json': () => new Response('{"a":1}') });
    const s = await readInstallSource('https://x.example/p.tgz', undefined, '/', f);
    expect(s.tarball.toString()).toBe('tgz');
    expect(s.bundleJson).toEqual({ a: 1 });
  });

  it('cuts a download off at the cap, even without a content-length (FETCH_FAILED)', async () => {
    const big = () =>
      new Response(
        new ReadableStream({
          pull(c) {
            c.enqueue(new Uint8Array(1024 * 1024));
          },
        }),
      );
    const f = remote({ 'https://x.example/big.tgz': big });
    expect(await asyncCodeOf(() => readInstallSource('https://x.example/big.tgz', undefined, '/', f))).toBe('FETCH_FAILED');
  });

  it('refuses a redirect to plain http (FETCH_FAILED) and an http URL (USAGE)', async () => {
    const f = remote({ 'https://x.example/redirected.tgz': () => new Response('tgz') });
    expect(await asyncCodeOf(() => readInstallSource('https://x.example/redirected.tgz', undefined, '/', f))).toBe('FETCH_FAILED');
    expect(await asyncCodeOf(() => readInstallSource('http://x.example/p.tgz', undefined, '/', f))).toBe('USAGE');
  });

  it('refuses a bundle that is not JSON or too large (BUNDLE_INVALID)', async () => {
    const dir = tempDir('mcpw-source-');
    writeFileSync(join(dir, 'p.tgz'), 'tgz');
    writeFileSync(join(dir, 'p.tgz.sigstore.json'), 'not json');
    expect(await asyncCodeOf(() => readInstallSource('p.tgz', undefined, dir))).toBe('BUNDLE_INVALID');
    writeFileSync(join(dir, 'big.json'), Buffer.alloc(2 * 1024 * 1024, 32));
    expect(await asyncCodeOf(() => readInstallSource('p.tgz', 'big.json', dir))).toBe('BUNDLE_INVALID');
  });
});
