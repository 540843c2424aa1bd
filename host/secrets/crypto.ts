/**
 * Secrets at rest: AES-256-GCM (node:crypto), one random 96-bit IV per value, the secret's scope and
 * name as additional authenticated data. Pure apart from the random IV.
 *
 * Threat: a copy of the store (a backup, another user reading a misconfigured home) must not reveal a
 * value without the key, and a value edited, truncated or moved to another name or package must be
 * refused rather than decrypted into something else (GCM's tag covers the ciphertext and the AAD).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { HostError } from '../errors.ts';

/** One encrypted value, as stored (base64url fields). */
export interface SealedValue {
  readonly iv: string;
  readonly tag: string;
  readonly data: string;
}

const ALGORITHM = 'aes-256-gcm';
export const KEY_BYTES = 32;

function aad(scope: string, name: string): Buffer {
  return Buffer.from(`mcp-warden secret v1\0${scope}\0${name}`, 'utf8');
}

/** Encrypts `value` under `key` for `scope` (a package name, or "*") and `name`. */
export function sealValue(key: Uint8Array, scope: string, name: string, value: string): SealedValue {
  if (key.byteLength !== KEY_BYTES) throw new HostError('SECRETS_INVALID', 'the secrets key has the wrong length');
  const iv = randomBytes(12);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(aad(scope, name));
  const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return { iv: iv.toString('base64url'), tag: cipher.getAuthTag().toString('base64url'), data: data.toString('base64url') };
}

/**
 * Decrypts a sealed value. @throws HostError SECRETS_INVALID when it was tampered with, belongs to
 * another scope or name, or the key is not the one it was sealed with (the message names the secret only).
 */
export function openValue(key: Uint8Array, scope: string, name: string, sealed: SealedValue): string {
  try {
    const iv = Buffer.from(sealed.iv, 'base64url');
    const tag = Buffer.from(sealed.tag, 'base64url');
    if (iv.byteLength !== 12 || tag.byteLength !== 16) throw new Error('bad sizes');
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: 16 });
    decipher.setAAD(aad(scope, name));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new HostError('SECRETS_INVALID', `secret ${name}${scope === '*' ? '' : ` (package ${scope})`} cannot be decrypted: the store was edited or the key is not the one it was written with; set it again with: mcp-warden secret set ${name}`);
  }
}
