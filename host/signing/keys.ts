/**
 * Publisher keys for keyed signing: ECDSA P-256, the private key as PKCS#8 PEM (mode 0600, optionally
 * encrypted with AES-256-CBC under a passphrase), the public key as SPKI PEM. The key id is the hex
 * SHA-256 of the SPKI DER: the same for everyone who holds the public key, so trust.json and a
 * bundle's key hint can name it.
 *
 * Threat: a private key left readable by other users, or overwritten by a second keygen, is a stolen or
 * lost publisher identity. Files are created exclusively and with mode 0600 from the start.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { HostError } from '../errors.ts';

export interface GeneratedKeyPair {
  readonly privateKeyFile: string;
  readonly publicKeyFile: string;
  readonly keyId: string;
  readonly encrypted: boolean;
}

function keyInvalid(message: string, cause?: unknown): HostError {
  return new HostError('KEY_INVALID', message, { cause });
}

/** Hex SHA-256 of the key's SPKI DER encoding. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

function assertP256(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw keyInvalid(`${what} is not an ECDSA P-256 key`);
  }
}

/** Parses an SPKI PEM public key; only ECDSA P-256 is accepted. @throws HostError KEY_INVALID */
export function parsePublicKeyPem(pem: string): KeyObject {
  // createPublicKey derives the public half of a private key: accepting one would hide that the user is
  // handing a secret around (to trust, to a user, to a repository).
  if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) throw keyInvalid('this is a private key: give the public key (the .pub file) and keep the private key secret');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw keyInvalid('not a PEM public key', e);
  }
  if (key.type !== 'public') throw keyInvalid('not a public key');
  assertP256(key, 'the public key');
  return key;
}

/** The SPKI PEM of a public key (normalized). */
export function publicKeyPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

/** Whether a PEM private key is passphrase-encrypted. */
export function isEncryptedPrivateKeyPem(pem: string): boolean {
  return pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
}

/** Parses a PKCS#8 PEM private key, decrypting it with `passphrase` when encrypted. @throws HostError KEY_INVALID */
export function parsePrivateKeyPem(pem: string, passphrase?: string): KeyObject {
  if (isEncryptedPrivateKeyPem(pem) && !passphrase) throw keyInvalid('the private key is encrypted: a passphrase is needed (MCP_WARDEN_KEY_PASSPHRASE)');
  let key: KeyObject;
  try {
    key = createPrivateKey(passphrase ? { key: pem, format: 'pem', passphrase } : { key: pem, format: 'pem' });
  } catch (e) {
    throw keyInvalid(isEncryptedPrivateKeyPem(pem) ? 'cannot decrypt the private key (wrong passphrase?)' : 'not a PEM private key', e);
  }
  assertP256(key, 'the private key');
  return key;
}

/** Reads a key file as text. @throws HostError KEY_INVALID */
export async function readKeyFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw keyInvalid(`cannot read key file ${path}`, e);
  }
}

/** An existing key file is a PATH_INVALID naming --force; any other write failure is the OS error itself. */
function existsOr(e: unknown, file: string): unknown {
  return (e as { code?: string }).code === 'EEXIST' ? new HostError('PATH_INVALID', `${file} exists: pass --force to replace it`, { cause: e }) : e;
}

/**
 * Generates a key pair into `PREFIX.key` (0600) and `PREFIX.pub` (0644). Refuses to overwrite existing
 * files unless `force`.
 * @throws HostError PATH_INVALID when a file exists (without force); the OS error when it cannot be written
 */
export async function generateKeyPairFiles(prefix: string, options: { passphrase?: string; force?: boolean } = {}): Promise<GeneratedKeyPair> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pkcs8 = options.passphrase
    ? privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: options.passphrase })
    : privateKey.export({ type: 'pkcs8', format: 'pem' });
  const privateKeyFile = `${prefix}.key`;
  const publicKeyFile = `${prefix}.pub`;
  const flag = options.force ? 'w' : 'wx';
  if (options.force) await rm(privateKeyFile, { force: true }); // so the new file is created 0600, not reusing old modes
  try {
    await writeFile(privateKeyFile, pkcs8, { mode: 0o600, flag });
  } catch (e) {
    throw existsOr(e, privateKeyFile);
  }
  try {
    await writeFile(publicKeyFile, publicKeyPem(publicKey), { mode: 0o644, flag });
  } catch (e) {
    await rm(privateKeyFile, { force: true });
    throw existsOr(e, publicKeyFile);
  }
  return { privateKeyFile, publicKeyFile, keyId: keyIdOf(publicKey), encrypted: Boolean(options.passphrase) };
}
