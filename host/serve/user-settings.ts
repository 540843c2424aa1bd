/**
 * The user's own settings for an installed package (lock.json, `settings`; set with `mcp-warden grant NAME
 * --fresh` and `--limit KEY=N`): what the user decides, not the package's author.
 *
 * - `fresh`: every call runs in a fresh context (no global, prototype or module state survives a call),
 *   as if the manifest asked for `freshContextPerCall`. A user can only ask for more isolation, never less.
 * - `limits`: lower limits. They apply as min(user, what the package runs with); a user limit can never
 *   raise a limit above the manifest's nor above the host maximums.
 *
 * Threat: settings come from lock.json, a file the user owns; they are checked like the rest of it, and
 * they only ever narrow what a package gets.
 */
import { DEFAULT_LIMITS } from '../../runtime/index.ts';
import type { Limits } from '../../runtime/index.ts';
import { HostError } from '../errors.ts';

export type LimitKey = keyof Limits;

export interface UserSettings {
  /** Force a fresh context per call. */
  readonly fresh?: boolean;
  /** Lower limits, by limit name. */
  readonly limits?: Readonly<Partial<Record<LimitKey, number>>>;
}

/** The limit names a user may lower. */
export const LIMIT_KEYS: readonly LimitKey[] = Object.freeze(Object.keys(DEFAULT_LIMITS) as LimitKey[]);

function isLimitKey(k: string): k is LimitKey {
  return (LIMIT_KEYS as readonly string[]).includes(k);
}

/** Checks a lock entry's `settings`. @throws HostError LOCK_INVALID */
export function parseUserSettings(raw: unknown, name: string): UserSettings {
  const invalid = (what: string) => new HostError('LOCK_INVALID', `lock.json: entry "${name}".settings ${what}`);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw invalid('must be an object');
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) if (k !== 'fresh' && k !== 'limits') throw invalid(`has an unknown key "${k.slice(0, 40)}"`);
  if (r.fresh !== undefined && typeof r.fresh !== 'boolean') throw invalid('.fresh must be true or false');
  let limits: Partial<Record<LimitKey, number>> | undefined;
  if (r.limits !== undefined) {
    if (r.limits === null || typeof r.limits !== 'object' || Array.isArray(r.limits)) throw invalid('.limits must be an object');
    limits = {};
    for (const [k, v] of Object.entries(r.limits as Record<string, unknown>)) {
      if (!isLimitKey(k)) throw invalid(`.limits has an unknown limit "${k.slice(0, 40)}"`);
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw invalid(`.limits.${k} must be a positive integer`);
      limits[k] = v;
    }
  }
  return { ...(r.fresh !== undefined ? { fresh: r.fresh as boolean } : {}), ...(limits ? { limits } : {}) };
}

/** `limits` lowered by the user's: each is min(package, user), never higher than the package's. */
export function lowerLimits(limits: Limits, user: UserSettings['limits']): Limits {
  if (!user) return limits;
  const out: Record<string, number> = { ...limits };
  for (const k of LIMIT_KEYS) {
    const u = user[k];
    if (typeof u === 'number' && Number.isFinite(u) && u >= 1) out[k] = Math.min(limits[k], Math.floor(u));
  }
  return out as unknown as Limits;
}

/**
 * Parses `--limit KEY=N` values; each must lower what the package runs with (`current`).
 * @throws HostError USAGE
 */
export function parseLimitFlags(values: readonly string[], current: Limits): Partial<Record<LimitKey, number>> {
  const out: Partial<Record<LimitKey, number>> = {};
  for (const text of values) {
    const m = /^([A-Za-z]+)=(\d{1,12})$/.exec(text);
    if (!m) throw new HostError('USAGE', `--limit expects KEY=N (e.g. cpuMs=500), got "${text.slice(0, 60)}"`);
    const key = m[1] as string;
    const value = Number(m[2]);
    if (!isLimitKey(key)) throw new HostError('USAGE', `--limit: unknown limit "${key.slice(0, 40)}" (one of ${LIMIT_KEYS.join(', ')})`);
    if (value < 1) throw new HostError('USAGE', `--limit ${key} must be at least 1`);
    if (value > current[key]) throw new HostError('USAGE', `--limit ${key}=${value} is above what the package runs with (${current[key]}); a user limit can only lower it`);
    out[key] = value;
  }
  return out;
}
