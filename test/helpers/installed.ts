/** Lock entries for packages copied into a home by hand (serve tests that do not go through install). */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sriSha512 } from '../../host/home/file-digests.ts';
import { homeLayout } from '../../host/home/home.ts';
import type { LockEntry } from '../../host/home/home.ts';
import { sealEntry } from '../../host/home/seal.ts';
import { keyIdOf, publicKeyPem } from '../../host/signing/keys.ts';

/** The per-file digests install would record for the files now in `dir`. */
export function digestTree(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, digestTree(dir, rel));
    else out[rel] = sriSha512(readFileSync(join(dir, rel)));
  }
  return out;
}

/**
 * Makes `home` trust a fresh key and gives it a lock.key (unless it has them): what install leaves behind.
 * @returns the recorded signer string of that key and the seal key
 */
export function trustedTestSigner(home: string): { signer: string; sealKey: Buffer } {
  const layout = homeLayout(home);
  let sealKey: Buffer;
  try {
    sealKey = readFileSync(layout.sealKey);
  } catch {
    sealKey = randomBytes(32);
    writeFileSync(layout.sealKey, sealKey, { mode: 0o600 });
  }
  let keyId: string;
  try {
    const trust = JSON.parse(readFileSync(layout.trustFile, 'utf8')) as { publishers: { keyId?: string }[] };
    keyId = trust.publishers[0]?.keyId as string;
  } catch {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    keyId = keyIdOf(publicKey);
    writeFileSync(layout.trustFile, JSON.stringify({ publishers: [{ name: 'test', kind: 'key', publicKeyPem: publicKeyPem(publicKey), keyId }] }), { mode: 0o600 });
  }
  return { signer: `key:${keyId}`, sealKey };
}

/**
 * Writes lock.json with `packages` recorded as install would: signed by a trusted test key and sealed
 * with the home's lock.key (serve refuses unsealed entries).
 */
export function writeSealedLock(home: string, packages: Record<string, Omit<LockEntry, 'signer' | 'seal'> & { signer?: string }>): void {
  const { signer, sealKey } = trustedTestSigner(home);
  const sealed: Record<string, LockEntry> = {};
  for (const [name, e] of Object.entries(packages)) sealed[name] = sealEntry(sealKey, name, { ...e, signer: e.signer ?? signer });
  writeFileSync(join(home, 'lock.json'), JSON.stringify({ version: 1, packages: sealed }), { mode: 0o600 });
}
