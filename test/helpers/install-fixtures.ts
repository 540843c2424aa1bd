/**
 * Building signed (and deliberately broken) package tarballs for install tests, and snapshotting a home
 * to prove that a refusal changed nothing.
 */
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import ssri from 'ssri';
import { packToBuffer } from '../../host/pack/pack.ts';
import { BLOCK, encodeHeader } from '../../host/pack/ustar.ts';
import { signKeyed, signStatementKeyed } from '../../host/signing/sign.ts';
import { packageStatement, statementPayload } from '../../host/signing/statement.ts';
import { tempDir } from './tool-package.ts';

export interface PackageOptions {
  readonly net?: readonly unknown[];
  readonly fs?: readonly unknown[];
  readonly code?: string;
  readonly entry?: string;
  /** The manifest's capabilities.secrets (docs/secrets.md). */
  readonly secrets?: unknown;
}

/** A tool package directory with one tool `echo` returning its text. */
export function writeEchoPackage(name: string, version: string, options: PackageOptions = {}): string {
  const dir = tempDir('mcpw-pkg-');
  const pkg = {
    name,
    version,
    mcpWarden: {
      entry: options.entry ?? 'index.js',
      tools: [{ name: 'echo', description: 'Echoes its input.', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }],
      capabilities: { net: options.net ?? [], fs: options.fs ?? [], ...(options.secrets === undefined ? {} : { secrets: options.secrets }) },
    },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(join(dir, 'index.js'), options.code ?? `export default { echo: ({ text }) => ${JSON.stringify(`${name}@${version}: `)} + text };\n`);
  return dir;
}

export async function packEcho(name: string, version: string, options: PackageOptions = {}): Promise<Buffer> {
  return (await packToBuffer(writeEchoPackage(name, version, options))).data;
}

/** Writes a tarball and its bundle into `dir`; returns the tarball path. */
export function writeSigned(dir: string, file: string, tarball: Uint8Array, bundle: unknown): string {
  const path = join(dir, file);
  writeFileSync(path, tarball);
  writeFileSync(`${path}.sigstore.json`, JSON.stringify(bundle));
  return path;
}

export function signedWithKey(tarball: Uint8Array, key: KeyObject): unknown {
  return signKeyed(tarball, key);
}

/** A raw tarball from entries (no safety checks: for hostile tarballs). */
export function rawTarball(entries: readonly { path: string; data?: string; type?: string }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(encodeHeader({ path: e.path, mode: 0o644, size: data.length, mtime: 0, type: e.type ?? '0' }));
    parts.push(data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(parts));
}

/**
 * A valid keyed signature over the package statement of ANY tarball (our signer refuses to sign unsafe
 * ones; an attacker's signer would not): so the refusal must come from install's own checks.
 */
export function signAnything(tarball: Uint8Array, name: string, version: string, key: KeyObject): unknown {
  const integrity = ssri.fromData(Buffer.from(tarball), { algorithms: ['sha512'] }).toString();
  return signStatementKeyed(statementPayload(packageStatement({ name, version, integrity }, tarball)), key);
}

/** Everything install may change in a home: lock.json and every file under packages/, with digests. */
export function snapshotHome(home: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lock = join(home, 'lock.json');
  out['lock.json'] = existsSync(lock) ? readFileSync(lock, 'utf8') : '<none>';
  const walk = (rel: string): void => {
    const abs = join(home, rel);
    if (!existsSync(abs)) return;
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        out[`${p}/`] = 'dir';
        walk(p);
      } else out[p] = createHash('sha256').update(readFileSync(join(home, p))).digest('hex');
    }
  };
  walk('packages');
  walk('store');
  for (const n of existsSync(home) ? readdirSync(home) : []) if (n.endsWith('.tmp')) out[n] = 'tmp';
  return out;
}
