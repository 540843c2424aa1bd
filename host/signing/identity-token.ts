/**
 * Where a keyless signature's OIDC identity token comes from: the --identity-token flag, else
 * SIGSTORE_ID_TOKEN, else GitHub Actions' token endpoint (a workflow with `permissions: id-token: write`
 * sets ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN), audience "sigstore".
 * Reads the environment it is given, not process.env, so tests and embedders control it.
 */
import { HostError } from '../errors.ts';

export const SIGSTORE_AUDIENCE = 'sigstore';

function failed(message: string, cause?: unknown): HostError {
  return new HostError('SIGNING_FAILED', message, { cause });
}

/** @throws HostError SIGNING_FAILED when no token can be found or the CI endpoint fails */
export async function resolveIdentityToken(flag: string | undefined, env: NodeJS.ProcessEnv, fetchImpl: typeof fetch = fetch): Promise<string> {
  if (flag) return flag;
  if (env.SIGSTORE_ID_TOKEN) return env.SIGSTORE_ID_TOKEN;
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const bearer = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (url && bearer) {
    let target: URL;
    try {
      target = new URL(url);
    } catch (e) {
      throw failed('ACTIONS_ID_TOKEN_REQUEST_URL is not a URL', e);
    }
    target.searchParams.set('audience', SIGSTORE_AUDIENCE);
    let body: unknown;
    try {
      const res = await fetchImpl(target, { headers: { Accept: 'application/json', Authorization: `Bearer ${bearer}` }, signal: AbortSignal.timeout(30_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = await res.json();
    } catch (e) {
      throw failed(`GitHub Actions did not issue an identity token (${e instanceof Error ? e.message : 'error'})`, e);
    }
    const value = (body as { value?: unknown } | null)?.value;
    if (typeof value !== 'string' || !value) throw failed('GitHub Actions returned no identity token');
    return value;
  }
  throw failed('no identity token: pass --identity-token, set SIGSTORE_ID_TOKEN, or run in GitHub Actions with id-token: write');
}
