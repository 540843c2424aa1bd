/**
 * Quarantine (issue 11): a package that keeps misbehaving is taken out of service until the user
 * re-enables it (`mcp-warden enable NAME`). This file is the policy: plain data and pure functions over an
 * injected clock (no I/O, no timers). The persisted state lives in host/home/quarantine-file.ts; serve
 * (host/commands/serve.ts) feeds the events and acts on a trip.
 *
 * What counts, per package, within a sliding window of `windowMs`:
 * - `capability`: a capability request the host refused (a net or fs CapabilityEvent with allowed:false;
 *   an open circuit breaker is the remote's failure, not the package's, and does not count);
 * - `limit`: a call that ended with a limit the package's own code hit (LIMIT_CODES below);
 * - `dlp`: a DLP detector with the `block` action fired on what the package returned, logged, raised or
 *   tried to send.
 * A package trips when one kind reaches its threshold within the window (each kind has its own).
 *
 * Threat: a compromised or hostile package probing its sandbox (scanning hosts, paths, exfiltrating data,
 * burning CPU) is stopped after a few attempts instead of being served indefinitely.
 */
import type { SandboxErrorCode } from '../../runtime/index.ts';

export type QuarantineKind = 'capability' | 'limit' | 'dlp';

/** The `quarantine` section of the home's config.json (host/home/config.ts). */
export interface QuarantineConfig {
  readonly enabled: boolean;
  /** The sliding window, in milliseconds. */
  readonly windowMs: number;
  /** Refused capability requests within the window that trip the quarantine. */
  readonly capabilityDenials: number;
  /** Calls ended by a limit within the window that trip it. */
  readonly limitKills: number;
  /** DLP blocks within the window that trip it. */
  readonly dlpBlocks: number;
}

export const DEFAULT_QUARANTINE_CONFIG: QuarantineConfig = Object.freeze({ enabled: true, windowMs: 600_000, capabilityDenials: 20, limitKills: 5, dlpBlocks: 5 });

/** The `quarantine` section (already checked against its schema), defaults filled in. Pure. */
export function parseQuarantineConfig(raw: unknown): QuarantineConfig {
  const r = (raw ?? {}) as Partial<QuarantineConfig>;
  const d = DEFAULT_QUARANTINE_CONFIG;
  return {
    enabled: r.enabled ?? d.enabled,
    windowMs: r.windowMs ?? d.windowMs,
    capabilityDenials: r.capabilityDenials ?? d.capabilityDenials,
    limitKills: r.limitKills ?? d.limitKills,
    dlpBlocks: r.dlpBlocks ?? d.dlpBlocks,
  };
}

/**
 * The call outcomes that count as limit kills: limits the package's own code reached (CPU, wall time,
 * memory, output size, its host-call and log quotas). Not counted: ISOLATE_RESET (the package's other
 * calls ended because one call hit a limit: that call is already counted), the host's or the client's
 * doing (CONCURRENCY_LIMIT, RATE_LIMITED, cancellation), a worker crash blamed on no package
 * (WORKER_CRASHED, WORKER_UNRESPONSIVE), and a tool's own error (TOOL_THREW).
 */
export const LIMIT_CODES: ReadonlySet<string> = new Set<SandboxErrorCode>(['SANDBOX_CPU_LIMIT', 'SANDBOX_TIMEOUT', 'SANDBOX_MEMORY_LIMIT', 'OUTPUT_TOO_LARGE', 'QUOTA_EXCEEDED']);

/** Why a package was quarantined (persisted and shown by `list`). */
export interface Trip {
  readonly package: string;
  readonly kind: QuarantineKind;
  /** How many events of that kind were in the window. */
  readonly count: number;
  readonly windowMs: number;
  /** One line for the user. */
  readonly reason: string;
}

const WHAT: Record<QuarantineKind, string> = { capability: 'refused capability requests', limit: 'calls ended by a limit', dlp: 'DLP blocks' };

function thresholdOf(config: QuarantineConfig, kind: QuarantineKind): number {
  return kind === 'capability' ? config.capabilityDenials : kind === 'limit' ? config.limitKills : config.dlpBlocks;
}

/** The reason line of a trip. Pure. */
export function tripReason(kind: QuarantineKind, count: number, windowMs: number): string {
  return `${count} ${WHAT[kind]} within ${Math.round(windowMs / 1000)} s`;
}

export interface QuarantineWindow {
  /**
   * Records one event of `pkg` at the clock's now; returns the trip when this event reaches the kind's
   * threshold (once: the package's events are then cleared), else null. Always null when disabled.
   */
  record(pkg: string, kind: QuarantineKind): Trip | null;
  /** Forgets a package's events (it was re-enabled or unloaded). */
  reset(pkg: string): void;
}

/** A sliding-window counter per package and kind, over the injected clock `now` (milliseconds). */
export function createQuarantineWindow(config: QuarantineConfig, now: () => number): QuarantineWindow {
  const events = new Map<string, number[]>();
  return {
    record(pkg, kind) {
      if (!config.enabled) return null;
      const threshold = thresholdOf(config, kind);
      const key = `${kind}\u0000${pkg}`;
      const t = now();
      // Events older than the window leave it; only `threshold` timestamps are ever kept.
      const kept = (events.get(key) ?? []).filter((at) => t - at < config.windowMs);
      kept.push(t);
      if (kept.length > threshold) kept.splice(0, kept.length - threshold);
      if (kept.length < threshold) {
        events.set(key, kept);
        return null;
      }
      this.reset(pkg);
      return { package: pkg, kind, count: kept.length, windowMs: config.windowMs, reason: tripReason(kind, kept.length, config.windowMs) };
    },
    reset(pkg) {
      for (const kind of ['capability', 'limit', 'dlp'] as const) events.delete(`${kind}\u0000${pkg}`);
    },
  };
}

/** The kind a call outcome counts as, if any. Pure. */
export function kindOfOutcome(outcome: string): QuarantineKind | null {
  if (LIMIT_CODES.has(outcome)) return 'limit';
  return null;
}

/**
 * Whether a capability event counts as a denial. Pure. A refusal for want of consent (CONSENT_*, docs/consent.md)
 * does not: the package asked for what it declared, and the user's "never" (or a client that cannot ask) is no
 * probing of the sandbox.
 */
export function isDenial(event: { readonly kind: string; readonly allowed: boolean; readonly code?: string }): boolean {
  return !event.allowed && (event.kind === 'net' || event.kind === 'fs') && !event.code?.startsWith('CONSENT_');
}
