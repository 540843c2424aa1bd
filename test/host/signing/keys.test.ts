import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateKeyPairFiles, keyIdOf, parsePrivateKeyPem, parsePublicKeyPem } from '../../../host/signing/keys.ts';
import { asyncCodeOf, codeOf } from '../../helpers/codes.ts';
import { tempDir } from '../../helpers/tool-package.ts';

describe('keygen', () => {
  it('writes PREFIX.key (PKCS#8, 0600) and PREFIX.pub (SPKI); the key id is sha256 of the SPKI DER', async () => {
    const prefix = join(tempDir(), 'acme');
    const r = await generateKeyPairFiles(prefix);
    expect(statSync(`${prefix}.key`).mode & 0o777).toBe(0o600);
    const priv = readFileSync(`${prefix}.key`, 'utf8');
    expect(priv).toContain('-----BEGIN PRIVATE KEY-----');
    const pub = parsePublicKeyPem(readFileSync(`${prefix}.pub`, 'utf8'));
    expect(r.keyId).toBe(createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex'));
    expect(keyIdOf(createPublicKey(parsePrivateKeyPem(priv)))).toBe(r.keyId);
  });

  it('encrypts the private key with a passphrase, and refuses it without the right one', async () => {
    const prefix = join(tempDir(), 'enc');
    await generateKeyPairFiles(prefix, { passphrase: 'correct horse' });
    const pem = readFileSync(`${prefix}.key`, 'utf8');
    expect(pem).toContain('ENCRYPTED PRIVATE KEY');
    expect(codeOf(() => parsePrivateKeyPem(pem))).toBe('KEY_INVALID');
    expect(codeOf(() => parsePrivateKeyPem(pem, 'wrong'))).toBe('KEY_INVALID');
    expect(parsePrivateKeyPem(pem, 'correct horse').asymmetricKeyType).toBe('ec');
  });

  it('never overwrites an existing key unless forced', async () => {
    const prefix = join(tempDir(), 'k');
    const first = await generateKeyPairFiles(prefix);
    expect(await asyncCodeOf(() => generateKeyPairFiles(prefix))).toBe('PATH_INVALID');
    expect(keyIdOf(parsePublicKeyPem(readFileSync(`${prefix}.pub`, 'utf8')))).toBe(first.keyId);
    const second = await generateKeyPairFiles(prefix, { force: true });
    expect(second.keyId).not.toBe(first.keyId);
  });

  it('accepts only ECDSA P-256 public keys', () => {
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(codeOf(() => parsePublicKeyPem(ed))).toBe('KEY_INVALID');
    expect(codeOf(() => parsePublicKeyPem(p384))).toBe('KEY_INVALID');
    expect(codeOf(() => parsePublicKeyPem('not a key'))).toBe('KEY_INVALID');
  });
});
