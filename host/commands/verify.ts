/**
 * `mcp-warden verify FILE|DIGEST`: verifies any file (or an artifact known by its sha256/sha512 digest)
 * against a Sigstore bundle, like `cosign verify-blob`, and for a tool tarball also the package binding
 * (name, version, integrity).
 */
import { resolve } from 'node:path';
import { HostError } from '../errors.ts';
import { bundlePathFor } from '../signing/sign.ts';
import { PUBLIC_GOOD_TRUSTED_ROOT, loadTrustMaterial } from '../signing/trust-root.ts';
import { anchoredPattern, parseArtifactDigest, verifyArtifact } from '../signing/verify.ts';
import type { SignerPolicy, VerifiedArtifact } from '../signing/verify.ts';
import { parseFlags, readBundleJson, readUserFile, runCommand, writeJson } from './cli-support.ts';
import type { CommandIO } from './io.ts';

export const USAGE = `Usage: mcp-warden verify FILE|DIGEST [--bundle FILE] --key PUB [--json]
       mcp-warden verify FILE [--bundle FILE] --certificate-identity ID --certificate-oidc-issuer ISS
                              [--trusted-root FILE] [--json]
       mcp-warden verify FILE [--bundle FILE] --certificate-identity-regexp RE --certificate-oidc-issuer ISS
                              [--trusted-root FILE] [--json]

Verifies FILE against a Sigstore bundle (default FILE.sigstore.json): any bundle version, a message
signature or a DSSE statement, keyed or keyless, Rekor v1 or v2 entries, with or without a timestamp
authority. When FILE is a package tarball, the signed statement must also name its package and
version. Prints the verified signer; exit 1 when verification fails.

Instead of FILE, a DIGEST "sha256:<hex>" or "sha512:<hex>" verifies an artifact you only know by its
digest (e.g. from sha256sum): the signed statement must name that digest, and --bundle is required.
A bare message signature covers the file's bytes and needs the file.

Checked in order: the file is what the bundle signs (digest, package name and version), the signature
(certificate chain, transparency log, timestamps), then the signer.

Options:
  --bundle FILE                      the bundle (default FILE.sigstore.json)
  --key PUB                          the signer's public key (PEM)
  --certificate-identity ID          the keyless signer's identity, compared exactly
  --certificate-identity-regexp RE   or a regular expression, anchored at both ends
  --certificate-oidc-issuer ISS      the identity's OIDC issuer, compared exactly
  --trusted-root FILE                Sigstore trusted root (default: the public-good root in keys/)
  --json                             machine-readable output
  --help                             show this help
`;

const OPTIONS = {
  bundle: { type: 'string' },
  key: { type: 'string' },
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'trusted-root': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

function describe(r: VerifiedArtifact): string {
  const lines = ['Verified OK'];
  lines.push(r.signer.kind === 'key' ? `  signer:    key ${r.signer.keyId}` : `  signer:    ${r.signer.identity}\n  issuer:    ${r.signer.issuer}`);
  if (r.package) lines.push(`  package:   ${r.package.name}@${r.package.version}`, `  integrity: ${r.package.integrity}`);
  if (r.digest.sha256) lines.push(`  sha256:    ${r.digest.sha256}`);
  if (r.digest.sha512 && !r.digest.sha256) lines.push(`  sha512:    ${r.digest.sha512}`);
  return `${lines.join('\n')}\n`;
}

export function run(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, 'verify', USAGE, argv, async (json) => {
    const { values, positionals } = parseFlags(argv, OPTIONS);
    if (positionals.length !== 1) throw new HostError('USAGE', 'expected exactly one file or digest to verify');
    const identity = values['certificate-identity'];
    const pattern = values['certificate-identity-regexp'];
    const issuer = values['certificate-oidc-issuer'];
    const chosen = [values.key, identity, pattern].filter((v) => v !== undefined).length;
    if (chosen !== 1) throw new HostError('USAGE', 'give exactly one of --key, --certificate-identity or --certificate-identity-regexp');
    if (values.key && issuer !== undefined) throw new HostError('USAGE', '--certificate-oidc-issuer applies to keyless verification only');
    if (!values.key && !issuer) throw new HostError('USAGE', 'keyless verification needs --certificate-oidc-issuer');

    let policy: SignerPolicy;
    if (values.key) {
      policy = { kind: 'key', publicKeyPem: (await readUserFile(io, values.key, 'public key')).toString('utf8') };
    } else if (identity !== undefined) {
      policy = { kind: 'identity', identity, issuer: issuer as string };
    } else {
      anchoredPattern(pattern as string); // a bad expression is a usage error, before any file is read
      policy = { kind: 'identity-regexp', pattern: pattern as string, issuer: issuer as string };
    }
    const file = positionals[0] as string;
    const digest = parseArtifactDigest(file);
    if (digest && values.bundle === undefined) throw new HostError('USAGE', 'verifying a digest needs --bundle FILE');
    const artifact = digest ?? (await readUserFile(io, file, 'file'));
    const bundle = await readBundleJson(io, values.bundle ?? bundlePathFor(file), 'bundle');
    const trustMaterial = loadTrustMaterial(values['trusted-root'] ? resolve(io.cwd, values['trusted-root']) : PUBLIC_GOOD_TRUSTED_ROOT);
    const r = verifyArtifact(artifact, bundle, policy, { trustMaterial });
    if (json) writeJson(io, { ok: true, ...r });
    else io.stdout.write(describe(r));
    return 0;
  });
}
