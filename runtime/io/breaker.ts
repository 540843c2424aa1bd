/**
 * Circuit breakers for a tool's fetches, one per package and remote origin (scheme://host:port).
 *
 * Threat: a tool calling a failing API in a loop hammers it (and our sockets and its quota) on behalf of a
 * user who cannot see it. After `failureThreshold` failures in a row (a connection error, a timeout, a
 * 5xx response) the breaker opens: fetches to that origin fail fast with CIRCUIT_OPEN and a retry-after,
 * without leaving the host. After `cooldownMs` it half-opens: one trial request goes out; its success
 * closes the breaker, its failure opens it again for another cool-down.
 *
 * The state machine is pure data and pure functions (`admit`, `record`) over an injected time; the
 * registry below only keeps the states and reports each change as a CapabilityEvent of kind "breaker"
 * (op "open", "half-open", "close"), which the host writes to its audit trail like any capability event.
 */
import { SandboxError } from '../errors.ts';
import type { CapabilityEvent } from '../types.ts';

export interface BreakerConfig {
  /** Off: every fetch goes out, nothing is counted. */
  readonly enabled: boolean;
  /** Failures in a row (connection errors, timeouts, 5xx) that open the breaker. */
  readonly failureThreshold: number;
  /** Time an open breaker refuses before it lets one trial request through, ms. */
  readonly cooldownMs: number;
}

export const DEFAULT_BREAKER_CONFIG: BreakerConfig = Object.freeze({ enabled: true, failureThreshold: 5, cooldownMs: 30_000 });

const LIMITS = { failureThreshold: [1, 1000], cooldownMs: [0, 86_400_000] } as const;

/**
 * Validates the `circuitBreaker` section of the home's config (schema: host/home/config.schema.json); missing
 * keys take the defaults. Pure: returns the config or one line saying what is wrong.
 */
export function parseBreakerConfig(raw: unknown): { ok: true; config: BreakerConfig } | { ok: false; error: string } {
  if (raw === undefined || raw === null) return { ok: true, config: DEFAULT_BREAKER_CONFIG };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, error: 'circuitBreaker must be an object' };
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (key !== 'enabled' && key !== 'failureThreshold' && key !== 'cooldownMs') return { ok: false, error: `circuitBreaker.${key.slice(0, 40)} is not a setting` };
  }
  if (r.enabled !== undefined && typeof r.enabled !== 'boolean') return { ok: false, error: 'circuitBreaker.enabled must be true or false' };
  for (const key of ['failureThreshold', 'cooldownMs'] as const) {
    const v = r[key];
    const [min, max] = LIMITS[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)) return { ok: false, error: `circuitBreaker.${key} must be an integer from ${min} to ${max}` };
  }
  return {
    ok: true,
    config: {
      enabled: (r.enabled as boolean | undefined) ?? DEFAULT_BREAKER_CONFIG.enabled,
      failureThreshold: (r.failureThreshold as number | undefined) ?? DEFAULT_BREAKER_CONFIG.failureThreshold,
      cooldownMs: (r.cooldownMs as number | undefined) ?? DEFAULT_BREAKER_CONFIG.cooldownMs,
    },
  };
}

export type BreakerState =
  | { readonly kind: 'closed'; readonly failures: number }
  | { readonly kind: 'open'; readonly retryAt: number }
  /** `trial`: the one request let through is still out. */
  | { readonly kind: 'half-open'; readonly trial: boolean };

export const CLOSED: BreakerState = Object.freeze({ kind: 'closed', failures: 0 });

export type Admission =
  | { readonly admitted: true; readonly trial: boolean; readonly next: BreakerState }
  | { readonly admitted: false; readonly retryAfterMs: number; readonly next: BreakerState };

/** Outcome of an admitted request: "abandoned" (cancelled, refused by a check) says nothing about the remote. */
export type Outcome = 'success' | 'failure' | 'abandoned';

/** May a request go out now? An open breaker whose cool-down has passed half-opens and admits one trial. */
export function admit(state: BreakerState, now: number, config: BreakerConfig): Admission {
  switch (state.kind) {
    case 'closed':
      return { admitted: true, trial: false, next: state };
    case 'open':
      if (now >= state.retryAt) return { admitted: true, trial: true, next: { kind: 'half-open', trial: true } };
      return { admitted: false, retryAfterMs: Math.ceil(state.retryAt - now), next: state };
    case 'half-open':
      if (!state.trial) return { admitted: true, trial: true, next: { kind: 'half-open', trial: true } };
      // Only one trial at a time; the others wait for its outcome.
      return { admitted: false, retryAfterMs: Math.min(config.cooldownMs, 1000), next: state };
  }
}

/**
 * The state after an admitted request ended. Results of requests admitted before the breaker opened
 * (`trial` false while it is open or half-open) change nothing: only the trial decides.
 */
export function record(state: BreakerState, outcome: Outcome, trial: boolean, now: number, config: BreakerConfig): BreakerState {
  if (outcome === 'abandoned') return trial && state.kind === 'half-open' ? { kind: 'half-open', trial: false } : state;
  if (state.kind === 'closed') {
    if (outcome === 'success') return CLOSED;
    const failures = state.failures + 1;
    return failures >= config.failureThreshold ? { kind: 'open', retryAt: now + config.cooldownMs } : { kind: 'closed', failures };
  }
  if (state.kind === 'half-open' && trial) return outcome === 'success' ? CLOSED : { kind: 'open', retryAt: now + config.cooldownMs };
  return state;
}

/** The event a state change writes to the audit trail, or null when the kind did not change. */
export function transitionOf(before: BreakerState, after: BreakerState): 'open' | 'half-open' | 'close' | null {
  if (before.kind === after.kind) return null;
  return after.kind === 'closed' ? 'close' : after.kind;
}

/** A breaker gate for one package, as a fetch sees it. */
export interface PackageBreaker {
  /**
   * Before one request (one redirect hop) to `origin`: refuses with CIRCUIT_OPEN (after reporting it), or
   * returns the function to call once with the request's outcome.
   */
  enter(origin: string, method: string): (outcome: Outcome) => void;
}

export interface BreakerRegistry {
  /** The gate of one package; `onEvent` receives its refusals and state changes (the current call's). */
  forPackage(pkg: string, onEvent: (event: CapabilityEvent) => void): PackageBreaker;
}

// Closed breakers with no failures are not kept; past this many states the oldest closed ones are dropped.
const MAX_STATES = 10_000;

/** The breakers of one sandbox. `now` is a monotonic clock in ms (tests inject one). */
export function createBreakerRegistry(config: BreakerConfig = DEFAULT_BREAKER_CONFIG, now: () => number = () => performance.now()): BreakerRegistry {
  const states = new Map<string, BreakerState>();
  const put = (key: string, state: BreakerState): void => {
    states.delete(key);
    if (state.kind === 'closed' && state.failures === 0) return;
    states.set(key, state);
    if (states.size > MAX_STATES) {
      for (const [k, s] of states) {
        if (s.kind === 'closed') {
          states.delete(k);
          break;
        }
      }
    }
  };
  const pass = (): void => undefined;
  return {
    forPackage(pkg, onEvent) {
      return {
        enter(origin, method) {
          if (!config.enabled) return pass;
          const key = `${pkg}\n${origin}`;
          const report = (before: BreakerState, after: BreakerState): void => {
            const t = transitionOf(before, after);
            if (t !== null) onEvent(t === 'open' ? { kind: 'breaker', op: t, target: origin, allowed: false, code: 'CIRCUIT_OPEN' } : { kind: 'breaker', op: t, target: origin, allowed: true });
          };
          const before = states.get(key) ?? CLOSED;
          const a = admit(before, now(), config);
          put(key, a.next);
          report(before, a.next);
          if (!a.admitted) {
            onEvent({ kind: 'net', op: method, target: origin, allowed: false, code: 'CIRCUIT_OPEN' });
            const seconds = Math.max(1, Math.ceil(a.retryAfterMs / 1000));
            throw new SandboxError('CIRCUIT_OPEN', `fetch to ${origin} refused (CIRCUIT_OPEN): it failed repeatedly; retry after ${seconds} s (retryAfterMs=${a.retryAfterMs})`);
          }
          let done = false;
          return (outcome) => {
            if (done) return;
            done = true;
            const current = states.get(key) ?? CLOSED;
            const next = record(current, outcome, a.trial, now(), config);
            put(key, next);
            report(current, next);
          };
        },
      };
    },
  };
}
