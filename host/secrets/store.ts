/**
 * The encrypted secrets store, <home>/secrets.json (0600): each value sealed with AES-256-GCM
 * (host/secrets/crypto.ts) under a key from the OS keychain or a 0600 key file (host/secrets/key.ts).
 * A value belongs to a scope: one package (`secret set NAME --package P`) or every package that
 * declares the name ("*"). Written atomically (host/home/files.ts); refused when others can read it.
 */
import { join } from 'node:path';
import { HostError } from '../errors.ts';
import { atomicWrite, readJsonFile } from '../home/files.ts';
import type { Home } from '../home/home.ts';
import { openValue, sealValue } from './crypto.ts';
import type { SealedValue } from './crypto.ts';
import { createKey, readKey } from './key.ts';
import type { KeyStore, Keychain } from './key.ts';
import { assertPrivateFile } from './private-file.ts';

/** Every package that declares the name. */
export const ANY_PACKAGE = '*';

interface StoreFile {
  readonly version: 1;
  readonly key: KeyStore;
  readonly secrets: Record<string, Record<string, SealedValue>>;
}

/** A stored secret's name and scope (never its value). */
export interface StoredSecret {
  readonly scope: string;
  readonly name: string;
}

/** The store file of a home. */
export function storePath(home: Home): string {
  return join(home.dir, 'secrets.json');
}

function invalid(why: string): HostError {
  return new HostError('SECRETS_INVALID', `${why}; see docs/secrets.md`);
}

function isSealed(v: unknown): v is SealedValue {
  const o = v as Record<string, unknown> | null;
  return o !== null && typeof o === 'object' && typeof o.iv === 'string' && typeof o.tag === 'string' && typeof o.data === 'string';
}

/** Reads the store (null when there is none). @throws HostError SECRETS_INVALID, HOME_UNSAFE */
async function readStoreFile(home: Home): Promise<StoreFile | null> {
  const path = storePath(home);
  if (!(await assertPrivateFile(path))) return null;
  const raw = (await readJsonFile(path, () => invalid(`${path} is not valid JSON`))) as Partial<StoreFile> | undefined;
  if (raw === undefined) return null;
  if (raw === null || typeof raw !== 'object' || raw.version !== 1 || (raw.key !== 'keychain' && raw.key !== 'file') || raw.secrets === null || typeof raw.secrets !== 'object') throw invalid(`${path} is not a secrets store`);
  for (const scoped of Object.values(raw.secrets)) {
    if (scoped === null || typeof scoped !== 'object' || !Object.values(scoped).every(isSealed)) throw invalid(`${path} is not a secrets store`);
  }
  return raw as StoreFile;
}

/** The names and scopes stored, sorted. */
export async function listStored(home: Home): Promise<StoredSecret[]> {
  const file = await readStoreFile(home);
  const out: StoredSecret[] = [];
  for (const [scope, names] of Object.entries(file?.secrets ?? {})) for (const name of Object.keys(names)) out.push({ scope, name });
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.scope.localeCompare(b.scope));
}

/** Stores (or replaces) a value. Returns where the key is kept. */
export async function storeSecret(home: Home, scope: string, name: string, value: string, keychain: Keychain | null): Promise<KeyStore> {
  const file = await readStoreFile(home);
  const { key, store } = file === null ? await createKey(home, keychain) : { key: await readKey(home, file.key, keychain), store: file.key };
  const secrets: Record<string, Record<string, SealedValue>> = { ...(file?.secrets ?? {}) };
  secrets[scope] = { ...(secrets[scope] ?? {}), [name]: sealValue(key, scope, name, value) };
  const next: StoreFile = { version: 1, key: store, secrets };
  await atomicWrite(storePath(home), `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  return store;
}

/** Removes a value. @throws HostError SECRET_UNKNOWN when it is not stored */
export async function removeSecret(home: Home, scope: string, name: string): Promise<void> {
  const file = await readStoreFile(home);
  if (file?.secrets[scope]?.[name] === undefined) throw new HostError('SECRET_UNKNOWN', `no secret ${name}${scope === ANY_PACKAGE ? '' : ` for package ${scope}`} is stored`);
  const secrets = { ...file.secrets };
  const { [name]: _gone, ...rest } = secrets[scope] ?? {};
  if (Object.keys(rest).length === 0) delete secrets[scope];
  else secrets[scope] = rest;
  await atomicWrite(storePath(home), `${JSON.stringify({ ...file, secrets }, null, 2)}\n`, { mode: 0o600 });
}

/** Every stored value, decrypted: scope → name → value. @throws HostError SECRETS_INVALID (tampered, wrong key) */
export async function openStore(home: Home, keychain: Keychain | null): Promise<Map<string, Map<string, string>>> {
  const out = new Map<string, Map<string, string>>();
  const file = await readStoreFile(home);
  if (file === null) return out;
  const key = await readKey(home, file.key, keychain);
  for (const [scope, names] of Object.entries(file.secrets)) {
    const values = new Map<string, string>();
    for (const [name, sealed] of Object.entries(names)) values.set(name, openValue(key, scope, name, sealed));
    out.set(scope, values);
  }
  return out;
}

/** Where the key of an existing store is kept, or null when there is no store yet. */
export async function storeKeyKind(home: Home): Promise<KeyStore | null> {
  return (await readStoreFile(home))?.key ?? null;
}
