/**
 * Sealing lock entries: an HMAC-SHA256 of each entry under a key only the user holds (<home>/lock.key,
 * 32 random bytes, mode 0600).
 *
 * Threat: lock.json says what serve runs (file digests, signer) and what it may reach (the grant). Whoever
 * can write it — another local user through a loose mode, a package through a grant that reached the
 * home — could record new digests for files they swapped, or a wider grant. The seal is install's
 * verification result cached by digest: install verifies the signature, then seals (name, integrity,
 * signer, files, grant); grant and revoke re-seal the one entry they change. An entry whose seal does not
 * check was not written by mcp-warden with this key, and serve refuses it (host/home/verify-installed.ts).
 * Entries are sealed one by one, never all at once, so a write never launders another entry's tampering.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { canonicalJson } from '../canonical-json.ts';
import { HostError } from '../errors.ts';
import { atomicWrite } from './files.ts';
import type { Home, LockEntry } from './home.ts';
import { assertSafe } from './modes.ts';

export const SEAL_KEY_BYTES = 32;
const PREFIX = 'hmac-sha256-';

function keyInvalid(home: Home, why: string): HostError {
  return new HostError('KEY_INVALID', `${home.sealKey} ${why}; delete it and reinstall your packages (their seals cannot be checked)`);
}

/** Reads lock.key; `undefined` when it does not exist. @throws HostError HOME_UNSAFE, KEY_INVALID */
export async function readSealKey(home: Home): Promise<Buffer | undefined> {
  await assertSafe(home.sealKey);
  let key: Buffer;
  try {
    key = await readFile(home.sealKey);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw keyInvalid(home, 'cannot be read');
  }
  // A short key (e.g. a 0-byte file left by a full disk) would make every seal guessable: refuse it.
  if (key.length !== SEAL_KEY_BYTES) throw keyInvalid(home, `is ${key.length} bytes, not ${SEAL_KEY_BYTES}`);
  return key;
}

/** lock.key, created (atomically, exactly once) when missing. Call with the home's writer lock held. */
export async function sealKeyForWriting(home: Home): Promise<Buffer> {
  const existing = await readSealKey(home);
  if (existing) return existing;
  try {
    await atomicWrite(home.sealKey, randomBytes(SEAL_KEY_BYTES), { mode: 0o600, exclusive: true });
  } catch (e) {
    if ((e as { code?: string }).code !== 'EEXIST') throw e;
  }
  const key = await readSealKey(home);
  if (!key) throw keyInvalid(home, 'could not be created');
  return key;
}

function mac(key: Buffer, name: string, entry: LockEntry): Buffer {
  const { seal: _seal, ...rest } = entry;
  return createHmac('sha256', key).update(canonicalJson({ name, entry: rest })).digest();
}

/** The entry with its seal. */
export function sealEntry(key: Buffer, name: string, entry: LockEntry): LockEntry {
  return { ...entry, seal: `${PREFIX}${mac(key, name, entry).toString('base64url')}` };
}

/** Whether the entry's seal was made with `key` over exactly this entry. Constant-time. */
export function sealMatches(key: Buffer, name: string, entry: LockEntry): boolean {
  if (entry.seal === undefined || !entry.seal.startsWith(PREFIX)) return false;
  const given = Buffer.from(entry.seal.slice(PREFIX.length), 'base64url');
  const expected = mac(key, name, entry);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
