/**
 * Reading what `install` was given: a local tarball or an HTTPS URL, and its Sigstore bundle
 * (`--bundle FILE`, else `<tarball or URL>.sigstore.json`).
 *
 * Threat: the bytes come from anyone. Reads are size-capped before anything is parsed (a local file is
 * stat'ed first, a download is counted as it streams and cut off at the cap) and a download has a
 * deadline, so a hostile server cannot make install hang or exhaust memory. Plain http is refused: the
 * signature protects the bytes, but there is no reason to let a network attacker choose which signed
 * version we get (a replayed older one is caught by the downgrade rule only for installed packages).
 */
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HostError } from '../errors.ts';
import { DEFAULT_TAR_LIMITS } from '../pack/extract.ts';

/** Largest bundle accepted (a keyless bundle with a chain and a proof is a few KiB). */
export const MAX_BUNDLE_BYTES = 1024 * 1024;
/** Deadline of one download. */
export const FETCH_TIMEOUT_MS = 60_000;

export interface InstallSource {
  readonly tarball: Buffer;
  readonly bundleJson: unknown;
  /** What the user named, for messages. */
  readonly label: string;
  /** Set for a package from an npm registry (host/install/npm-source.ts): verified by its provenance, not a bundle. */
  readonly npm?: NpmOrigin;
}

/** What the registry said about a package version it served: the evidence its provenance is verified from. */
export interface NpmOrigin {
  readonly name: string;
  readonly version: string;
  /** The registry URL (with a trailing slash). */
  readonly registry: string;
  /** The attestations document (undefined: the version was published without provenance). */
  readonly attestations: unknown;
  /** The registry's keys document (undefined: the registry serves none). */
  readonly keys: unknown;
}

function isUrl(spec: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(spec);
}

async function readLocal(path: string, cap: number, code: 'TARBALL_INVALID' | 'BUNDLE_INVALID', what: string): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    // No bundle is a refusal (an unsigned package), a missing tarball a usage error.
    if (code === 'BUNDLE_INVALID') throw new HostError(code, `no Sigstore bundle at ${path} (pass --bundle FILE)`);
    throw new HostError('USAGE', `cannot read ${what} ${path}`);
  }
  try {
    const info = await fh.stat();
    if (!info.isFile()) throw new HostError('USAGE', `${what} ${path} is not a file`);
    if (info.size > cap) throw new HostError(code, `${what} is larger than ${cap} bytes`);
    const data = await fh.readFile();
    if (data.length > cap) throw new HostError(code, `${what} is larger than ${cap} bytes`);
    return data;
  } finally {
    await fh.close();
  }
}

async function download(url: string, cap: number, what: string, fetchImpl: typeof fetch): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetchImpl(url, { redirect: 'follow', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (e) {
    throw new HostError('FETCH_FAILED', `cannot download ${what}: ${e instanceof Error ? e.message : 'network error'}`);
  }
  // A redirect must not take us off https either.
  if (!res.url.startsWith('https://')) throw new HostError('FETCH_FAILED', `${what} redirected to a non-https URL`);
  if (!res.ok || !res.body) throw new HostError('FETCH_FAILED', `cannot download ${what}: HTTP ${res.status}`);
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > cap) throw new HostError('FETCH_FAILED', `${what} is larger than ${cap} bytes`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body) {
      total += chunk.byteLength;
      if (total > cap) throw new HostError('FETCH_FAILED', `${what} is larger than ${cap} bytes`);
      chunks.push(chunk);
    }
  } catch (e) {
    if (e instanceof HostError) throw e;
    throw new HostError('FETCH_FAILED', `download of ${what} was interrupted or timed out`);
  }
  return Buffer.concat(chunks);
}

function parseBundle(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString('utf8')) as unknown;
  } catch {
    throw new HostError('BUNDLE_INVALID', 'the Sigstore bundle is not valid JSON');
  }
}

/**
 * Reads the tarball and its bundle. @throws HostError USAGE, TARBALL_INVALID, BUNDLE_INVALID, FETCH_FAILED
 */
export async function readInstallSource(spec: string, bundleFlag: string | undefined, cwd: string, fetchImpl: typeof fetch = fetch): Promise<InstallSource> {
  const cap = DEFAULT_TAR_LIMITS.maxCompressedBytes;
  if (isUrl(spec)) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw new HostError('USAGE', 'not a valid URL');
    }
    if (url.protocol !== 'https:') throw new HostError('USAGE', 'install downloads over https only');
    const tarball = await download(url.href, cap, 'the tarball', fetchImpl);
    const bundle = bundleFlag
      ? await readLocal(resolve(cwd, bundleFlag), MAX_BUNDLE_BYTES, 'BUNDLE_INVALID', 'bundle')
      : await download(`${url.href}.sigstore.json`, MAX_BUNDLE_BYTES, 'the bundle', fetchImpl);
    return { tarball, bundleJson: parseBundle(bundle), label: url.href };
  }
  const path = resolve(cwd, spec);
  const tarball = await readLocal(path, cap, 'TARBALL_INVALID', 'tarball');
  const bundlePath = bundleFlag ? resolve(cwd, bundleFlag) : `${path}.sigstore.json`;
  const bundle = await readLocal(bundlePath, MAX_BUNDLE_BYTES, 'BUNDLE_INVALID', 'bundle');
  return { tarball, bundleJson: parseBundle(bundle), label: spec };
}
