/**
 * Verification cost per package size: one integrity check (ssri sha512, as npm does) and one Sigstore
 * bundle verification (keyed DSSE over the package statement, offline), for a ~10 KB and a ~1 MB package.
 * These are host-side costs paid at install (and the integrity re-check at serve); there is no plain
 * server equivalent, so they are reported alone.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, cpSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssri from 'ssri';
import { packToBuffer } from '../host/pack/pack.ts';
import { signKeyed } from '../host/signing/sign.ts';
import { verifyArtifact } from '../host/signing/verify.ts';
import type { Figure } from './harness.ts';
import { median } from './harness.ts';

async function packageOfSize(bytes: number): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-verify-'));
  cpSync(join(import.meta.dirname, 'package'), dir, { recursive: true });
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { files?: string[] };
  // Incompressible padding, so the tarball really has the size named.
  writeFileSync(join(dir, 'data.bin'), randomBytes(bytes));
  pkg.files = ['data.bin'];
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  return (await packToBuffer(dir)).data;
}

export async function verificationFigures(rounds: number): Promise<Figure[]> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const figures: Figure[] = [];
  for (const [label, size] of [
    ['10 KB', 10 * 1024],
    ['1 MB', 1024 * 1024],
  ] as const) {
    const tarball = await packageOfSize(size);
    const integrity = ssri.fromData(tarball, { algorithms: ['sha512'] }).toString();
    const bundle = JSON.parse(JSON.stringify(signKeyed(tarball, privateKey))) as unknown;
    const integrityMs: number[] = [];
    const verifyMs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      ssri.checkData(tarball, integrity, { error: true });
      integrityMs.push(performance.now() - t);
      t = performance.now();
      verifyArtifact(tarball, bundle, { kind: 'key', publicKeyPem }, { requirePackage: true });
      verifyMs.push(performance.now() - t);
    }
    figures.push({ name: `Integrity check (ssri sha512), ${label} package`, unit: 'ms', better: 'lower', warden: [median(integrityMs)], plain: [] });
    figures.push({ name: `Sigstore bundle verification, ${label} package`, unit: 'ms', better: 'lower', warden: [median(verifyMs)], plain: [] });
  }
  return figures;
}
