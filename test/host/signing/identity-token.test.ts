import { describe, expect, it } from 'vitest';
import { resolveIdentityToken } from '../../../host/signing/identity-token.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';

const GHA = { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://gha.example/token?api-version=2.0', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'secret' };

function fakeFetch(seen: string[], body: unknown, status = 200): typeof fetch {
  return (async (url: URL | string, init?: RequestInit) => {
    seen.push(`${String(url)} ${(init?.headers as Record<string, string>).Authorization}`);
    return new Response(JSON.stringify(body), { status });
  }) as typeof fetch;
}

describe('resolveIdentityToken', () => {
  it('prefers the flag, then SIGSTORE_ID_TOKEN, then GitHub Actions', async () => {
    const seen: string[] = [];
    const f = fakeFetch(seen, { value: 'from-gha' });
    expect(await resolveIdentityToken('from-flag', { SIGSTORE_ID_TOKEN: 'from-env', ...GHA }, f)).toBe('from-flag');
    expect(await resolveIdentityToken(undefined, { SIGSTORE_ID_TOKEN: 'from-env', ...GHA }, f)).toBe('from-env');
    expect(await resolveIdentityToken(undefined, GHA, f)).toBe('from-gha');
    expect(seen).toEqual(['https://gha.example/token?api-version=2.0&audience=sigstore Bearer secret']);
  });

  it('fails with SIGNING_FAILED when there is no token or GitHub refuses', async () => {
    expect(await asyncCodeOf(() => resolveIdentityToken(undefined, {}))).toBe('SIGNING_FAILED');
    expect(await asyncCodeOf(() => resolveIdentityToken(undefined, GHA, fakeFetch([], {}, 403)))).toBe('SIGNING_FAILED');
    expect(await asyncCodeOf(() => resolveIdentityToken(undefined, GHA, fakeFetch([], { value: 7 })))).toBe('SIGNING_FAILED');
  });
});
