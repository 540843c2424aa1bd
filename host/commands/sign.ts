/**
 * `mcp-warden sign TARBALL --key PREFIX.key` or `--keyless`: writes TARBALL.sigstore.json, a Sigstore
 * bundle (v0.3) over the package's in-toto statement (name, version, sha512).
 */
import { createPublicKey } from 'node:crypto';
import { resolve } from 'node:path';
import type { SerializedBundle } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { HostError } from '../errors.ts';
import { atomicWrite } from '../home/files.ts';
import { resolveIdentityToken } from '../signing/identity-token.ts';
import { isEncryptedPrivateKeyPem, keyIdOf, parsePrivateKeyPem, readKeyFile } from '../signing/keys.ts';
import { DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL, bundlePathFor, describeTarball, signKeyed, signKeyless } from '../signing/sign.ts';
import { parseFlags, readUserFile, runCommand, writeJson } from './cli-support.ts';
import type { CommandIO } from './io.ts';
import { PASSPHRASE_ENV, getPassphrase } from './passphrase.ts';

export const USAGE = `Usage: mcp-warden sign TARBALL --key PREFIX.key [--bundle FILE] [--json]
       mcp-warden sign TARBALL --keyless [--identity-token TOKEN] [--fulcio-url URL]
                                 [--rekor-url URL] [--rekor-version 1|2] [--tsa-url URL] [--bundle FILE] [--json]

Signs a package tarball: writes TARBALL.sigstore.json, a Sigstore bundle (v0.3) holding a DSSE in-toto
statement that binds the package's name, version and sha512 digest.

Keyed: signs with your ECDSA P-256 private key (from "mcp-warden keygen"); an encrypted key's
passphrase comes from ${PASSPHRASE_ENV} or the terminal.
Keyless: Fulcio certifies an ephemeral key for your OIDC identity and Rekor logs the signature. The
identity token comes from --identity-token, else SIGSTORE_ID_TOKEN, else GitHub Actions (a workflow
with "permissions: id-token: write").

Options:
  --key FILE             private key (keyed signing)
  --keyless              keyless signing
  --identity-token TOKEN OIDC identity token (keyless)
  --fulcio-url URL       Fulcio (default ${DEFAULT_FULCIO_URL})
  --rekor-url URL        Rekor (default ${DEFAULT_REKOR_URL})
  --rekor-version N      Rekor API version, 1 (default) or 2 (needs --tsa-url)
  --tsa-url URL          RFC 3161 timestamp authority (default: none)
  --bundle FILE          where to write the bundle (default TARBALL.sigstore.json)
  --json                 machine-readable output
  --help                 show this help
`;

const OPTIONS = {
  key: { type: 'string' },
  keyless: { type: 'boolean' },
  'identity-token': { type: 'string' },
  'fulcio-url': { type: 'string' },
  'rekor-url': { type: 'string' },
  'rekor-version': { type: 'string' },
  'tsa-url': { type: 'string' },
  bundle: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

function checkUrl(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new HostError('USAGE', `${flag} must be a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new HostError('USAGE', `${flag} must be an http(s) URL`);
  return value.replace(/\/+$/, '');
}

/** The certificate identity of a keyless bundle, for display. */
function certificateIdentity(bundle: SerializedBundle): string | undefined {
  const vm = bundle.verificationMaterial as { certificate?: { rawBytes: string }; x509CertificateChain?: { certificates: { rawBytes: string }[] } };
  const raw = vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates[0]?.rawBytes;
  if (!raw) return undefined;
  try {
    return X509Certificate.parse(Buffer.from(raw, 'base64')).subjectAltName;
  } catch {
    return undefined;
  }
}

export function run(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, 'sign', USAGE, argv, async (json) => {
    const { values, positionals } = parseFlags(argv, OPTIONS);
    if (positionals.length !== 1) throw new HostError('USAGE', 'expected exactly one tarball');
    if (Boolean(values.key) === Boolean(values.keyless)) throw new HostError('USAGE', 'choose one of --key FILE or --keyless');
    const keylessOnly = ['identity-token', 'fulcio-url', 'rekor-url', 'rekor-version', 'tsa-url'] as const;
    if (values.key && keylessOnly.some((f) => values[f] !== undefined)) throw new HostError('USAGE', '--identity-token and the service URLs apply to --keyless only');
    const tarballPath = resolve(io.cwd, positionals[0] as string);
    const tarball = await readUserFile(io, positionals[0] as string, 'tarball');
    const pkg = describeTarball(tarball);

    let bundle: SerializedBundle;
    let signer: { kind: 'key'; keyId: string } | { kind: 'identity'; identity: string | undefined };
    if (values.key) {
      const pem = await readKeyFile(resolve(io.cwd, values.key));
      let passphrase: string | undefined;
      if (isEncryptedPrivateKeyPem(pem)) passphrase = await getPassphrase(io, { confirm: false });
      const key = parsePrivateKeyPem(pem, passphrase);
      bundle = signKeyed(tarball, key);
      signer = { kind: 'key', keyId: keyIdOf(createPublicKey(key)) };
    } else {
      const version = values['rekor-version'] ?? '1';
      if (version !== '1' && version !== '2') throw new HostError('USAGE', '--rekor-version must be 1 or 2');
      const tsaURL = checkUrl(values['tsa-url'], '--tsa-url');
      if (version === '2' && !tsaURL) throw new HostError('USAGE', 'Rekor v2 entries carry no time: --rekor-version 2 needs --tsa-url');
      const fulcioURL = checkUrl(values['fulcio-url'], '--fulcio-url');
      const rekorURL = checkUrl(values['rekor-url'], '--rekor-url');
      const identityToken = await resolveIdentityToken(values['identity-token'], io.env);
      bundle = await signKeyless(tarball, {
        identityToken,
        rekorVersion: version === '2' ? 2 : 1,
        ...(fulcioURL ? { fulcioURL } : {}),
        ...(rekorURL ? { rekorURL } : {}),
        ...(tsaURL ? { tsaURL } : {}),
      });
      signer = { kind: 'identity', identity: certificateIdentity(bundle) };
    }
    const bundleFile = values.bundle ? resolve(io.cwd, values.bundle) : bundlePathFor(tarballPath);
    await atomicWrite(bundleFile, `${JSON.stringify(bundle)}\n`, { mode: 0o644 });
    if (json) writeJson(io, { ok: true, bundle: bundleFile, package: pkg, signer });
    else {
      const who = signer.kind === 'key' ? `key ${signer.keyId}` : `identity ${signer.identity ?? '(unknown)'}`;
      io.stdout.write(`signed ${pkg.name}@${pkg.version} (${pkg.integrity})\n  signer: ${who}\n  bundle: ${bundleFile}\n`);
    }
    return 0;
  });
}
