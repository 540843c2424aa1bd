/**
 * The audit key (<home>/audit.key, 0600): the per-home random key the argument digests
 * (host/serve/audit-records.ts) and the records' seals (host/serve/audit-chain.ts) are made under. Read
 * when it is a full key; otherwise made whole, atomically, and never used short or empty.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HostError } from '../errors.ts';
import { atomicWrite } from '../home/files.ts';

/** Bytes of the audit key; a shorter key is never used. */
export const AUDIT_KEY_BYTES = 32;

type KeyState = { readonly key: Buffer } | { readonly problem: 'missing' | 'empty' | 'short' | 'malformed' };

async function readKey(path: string): Promise<KeyState> {
  let text: string;
  try {
    text = (await readFile(path, 'utf8')).trim();
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return { problem: 'missing' };
    throw e;
  }
  if (text === '') return { problem: 'empty' };
  if (!/^(?:[0-9a-f]{2})+$/.test(text)) return { problem: 'malformed' };
  if (text.length < AUDIT_KEY_BYTES * 2) return { problem: 'short' };
  return { key: Buffer.from(text, 'hex') };
}

/** The audit key of a home, for `audit verify`: never made here. Null when it is missing, empty, short or malformed. */
export async function readAuditKey(path: string): Promise<Buffer | null> {
  const state = await readKey(path);
  return 'key' in state ? state.key : null;
}

/**
 * The audit key: read when it is a full key; otherwise made with the home's atomicWrite, so a key is only
 * ever seen complete: a missing key is created exactly once (if another serve made one meanwhile, that one
 * is used), a damaged one is replaced whole. A missing, empty, short or malformed key (a disk that filled
 * at first start left a 0-byte file) is never used as an HMAC key.
 */
export async function loadOrCreateAuditKey(path: string, warn: (message: string) => void): Promise<Buffer> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const state = await readKey(path);
    if ('key' in state) return state.key;
    const key = randomBytes(AUDIT_KEY_BYTES);
    try {
      await atomicWrite(path, key.toString('hex'), { mode: 0o600, exclusive: state.problem === 'missing' });
    } catch (e) {
      if ((e as { code?: string }).code === 'EEXIST') continue; // another serve made it first: read theirs
      throw e;
    }
    if (state.problem !== 'missing') {
      warn(`the audit key (audit.key) was ${state.problem}; a new ${AUDIT_KEY_BYTES}-byte key replaces it (argument digests before and after it do not compare)`);
    }
    return key;
  }
  throw new HostError('HOME_UNUSABLE', 'the audit key keeps changing under us; is another program rewriting audit.key?');
}
