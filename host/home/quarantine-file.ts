/**
 * The quarantined packages of a home: <home>/quarantine.json, `{ "version": 1, "packages": { NAME:
 * { "since": ISO date, "reason": "…", "kind": "capability" | "limit" | "dlp" } } }`. Written by serve when a
 * package trips (host/serve/quarantine.ts), emptied of a name by `mcp-warden enable NAME`, read by serve at
 * start and at every reload of the home (host/home/watch.ts) and by `list`.
 *
 * Why a file of its own rather than a field of the lock entry: lock.json is the commit point of install,
 * its entries sealed with lock.key; serve never writes it (a serve that could rewrite lock entries could
 * also drop a seal). Quarantine is written by serve at run time, applies to --dev packages too (which have
 * no lock entry), and survives remove + reinstall of a name, so a package cannot lift its own quarantine
 * by being reinstalled.
 *
 * Threat: the file only ever takes packages out of service. It is believed only if nobody else can write
 * it (host/home/modes.ts), as lock.json; a damaged file fails closed: serve serves no installed package
 * and says why (QUARANTINE_INVALID), and `enable` rewrites it. Writes are atomic (files.ts) under the
 * home's writer lock, so two serves tripping at once both end up recorded.
 */
import { join } from 'node:path';
import { HostError } from '../errors.ts';
import type { QuarantineKind } from '../serve/quarantine.ts';
import { atomicWrite, readJsonFile } from './files.ts';
import type { Home } from './home.ts';
import { assertSafe } from './modes.ts';
import { withHomeMutex } from './mutex.ts';

export interface QuarantineEntry {
  readonly since: string;
  readonly reason: string;
  readonly kind: QuarantineKind;
}

export type QuarantineState = Readonly<Record<string, QuarantineEntry>>;

export const QUARANTINE_FILE = 'quarantine.json';

export function quarantinePath(home: Home): string {
  return join(home.dir, QUARANTINE_FILE);
}

const KINDS: readonly string[] = ['capability', 'limit', 'dlp'];

function invalid(what: string): HostError {
  return new HostError('QUARANTINE_INVALID', `quarantine.json ${what}; run "mcp-warden enable NAME" or remove the file to re-enable every package`);
}

/** The state of a parsed quarantine.json (undefined: no file). Pure. @throws HostError QUARANTINE_INVALID */
export function parseQuarantineFile(data: unknown): QuarantineState {
  if (data === undefined) return {};
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw invalid('must be an object');
  const { version, packages } = data as Record<string, unknown>;
  if (version !== 1) throw invalid('has an unknown version');
  if (packages === null || typeof packages !== 'object' || Array.isArray(packages)) throw invalid('.packages must be an object');
  const out: Record<string, QuarantineEntry> = {};
  for (const [name, raw] of Object.entries(packages as Record<string, unknown>)) {
    const e = raw as Partial<Record<keyof QuarantineEntry, unknown>> | null;
    if (e === null || typeof e !== 'object' || typeof e.since !== 'string' || typeof e.reason !== 'string' || typeof e.kind !== 'string' || !KINDS.includes(e.kind)) throw invalid(`entry "${name.slice(0, 60)}" is malformed`);
    out[name] = { since: e.since.slice(0, 64), reason: e.reason.slice(0, 300), kind: e.kind as QuarantineKind };
  }
  return out;
}

/** Reads <home>/quarantine.json (missing: nothing quarantined). @throws HostError HOME_UNSAFE, QUARANTINE_INVALID */
export async function readQuarantine(home: Home): Promise<QuarantineState> {
  const path = quarantinePath(home);
  await assertSafe(home.dir);
  await assertSafe(path);
  return parseQuarantineFile(await readJsonFile(path, (why) => invalid(why === 'not-json' ? 'is not valid JSON' : 'cannot be read')));
}

async function write(home: Home, state: QuarantineState): Promise<void> {
  const packages: Record<string, QuarantineEntry> = {};
  for (const name of Object.keys(state).sort()) packages[name] = state[name] as QuarantineEntry;
  await atomicWrite(quarantinePath(home), `${JSON.stringify({ version: 1, packages }, null, 2)}\n`, { mode: 0o600 });
}

/** Records `name` as quarantined (kept as first recorded if it already is). */
export async function addQuarantine(home: Home, name: string, entry: QuarantineEntry): Promise<void> {
  await withHomeMutex(home, async () => {
    const state = await readQuarantine(home).catch(() => ({}) as QuarantineState);
    if (state[name]) return;
    await write(home, { ...state, [name]: entry });
  });
}

/**
 * Lifts the quarantine of `name`; returns whether it was quarantined. A damaged file is replaced by one
 * without `name` (it could not be read anyway).
 */
export async function removeQuarantine(home: Home, name: string): Promise<boolean> {
  return withHomeMutex(home, async () => {
    let state: QuarantineState;
    try {
      state = await readQuarantine(home);
    } catch (e) {
      if (e instanceof HostError && e.code === 'QUARANTINE_INVALID') {
        await write(home, {});
        return true;
      }
      throw e;
    }
    if (!state[name]) return false;
    const { [name]: _lifted, ...rest } = state;
    await write(home, rest);
    return true;
  });
}
