/**
 * The key that encrypts the secrets store: kept in the OS keychain (libsecret / macOS Keychain / Windows
 * Credential Manager, through @napi-rs/keyring) where one is reachable, otherwise in a 0600 key file in
 * the home (<home>/secrets.key). The store records which was used, so a keychain that is unreachable
 * later is an error (SECRETS_INVALID), not a silent new key.
 *
 * Threat: a key beside the store protects only against a copy of the store alone (a backup); the
 * keychain keeps it out of the home entirely. The key file is refused when others can read it.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as KeyringModule from '@napi-rs/keyring';
import { join } from 'node:path';
import { HostError } from '../errors.ts';
import { atomicWrite } from '../home/files.ts';
import type { Home } from '../home/home.ts';
import { KEY_BYTES } from './crypto.ts';
import { assertPrivateFile } from './private-file.ts';

export type KeyStore = 'keychain' | 'file';

/** A keychain as this module uses it (the real one is @napi-rs/keyring's Entry; tests pass none). */
export interface Keychain {
  get(account: string): string | null;
  set(account: string, value: string): void;
}

const SERVICE = 'mcp-warden';

/** The key file of a home. */
export function keyFilePath(home: Home): string {
  return join(home.dir, 'secrets.key');
}

/**
 * The OS keychain, or null when its library cannot load or no keychain service answers (a Linux box
 * without a D-Bus secret service; the probe is one read).
 */
export function systemKeychain(): Keychain | null {
  try {
    // Loaded on use, inside the try: a platform without a prebuilt binary falls back to the key file.
    const { Entry } = createRequire(import.meta.url)('@napi-rs/keyring') as typeof KeyringModule;
    // On Linux, the Secret Service only: the library's fallback, the kernel keyring, forgets the key at
    // reboot, and with it every stored secret.
    const options = process.platform === 'linux' ? { linux: { store: 'secret-service' as const } } : undefined;
    const chain: Keychain = {
      get: (account) => new Entry(SERVICE, account, options).getPassword(),
      set: (account, value) => new Entry(SERVICE, account, options).setPassword(value),
    };
    chain.get('probe');
    return chain;
  } catch {
    return null;
  }
}

function decodeKey(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64url');
  if (key.byteLength !== KEY_BYTES) throw new HostError('SECRETS_INVALID', `the secrets key in ${where} is not a ${KEY_BYTES}-byte key`);
  return key;
}

/** Reads the key of `home` from where the store says it is. @throws HostError SECRETS_INVALID, HOME_UNSAFE */
export async function readKey(home: Home, store: KeyStore, keychain: Keychain | null): Promise<Buffer> {
  if (store === 'keychain') {
    const text = keychain?.get(home.dir) ?? null;
    if (text === null) throw new HostError('SECRETS_INVALID', 'the secrets key is kept in the OS keychain, which is not reachable now (or the entry was removed); set the secrets again with: mcp-warden secret set NAME');
    return decodeKey(text, 'the OS keychain');
  }
  const path = keyFilePath(home);
  if (!(await assertPrivateFile(path))) throw new HostError('SECRETS_INVALID', `the secrets key file ${path} is missing; set the secrets again with: mcp-warden secret set NAME`);
  return decodeKey(await readFile(path, 'utf8'), path);
}

/** Makes a new key, in the keychain when one is reachable, else in a 0600 key file. */
export async function createKey(home: Home, keychain: Keychain | null): Promise<{ key: Buffer; store: KeyStore }> {
  const key = randomBytes(KEY_BYTES);
  if (keychain !== null) {
    try {
      keychain.set(home.dir, key.toString('base64url'));
      return { key, store: 'keychain' };
    } catch {
      // Fall through to the key file: a keychain that reads but refuses to write is no keychain.
    }
  }
  await atomicWrite(keyFilePath(home), `${key.toString('base64url')}\n`, { mode: 0o600 });
  return { key, store: 'file' };
}
