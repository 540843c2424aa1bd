/**
 * The quarantine policy (host/serve/quarantine.ts): a sliding window per package and kind over an
 * injected clock. No sleeps: the clock is a variable.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_QUARANTINE_CONFIG, LIMIT_CODES, createQuarantineWindow, isDenial, kindOfOutcome, parseQuarantineConfig } from '../../../host/serve/quarantine.ts';
import type { QuarantineConfig, QuarantineKind } from '../../../host/serve/quarantine.ts';

const config: QuarantineConfig = { enabled: true, windowMs: 1000, capabilityDenials: 3, limitKills: 2, dlpBlocks: 4 };

function clocked(c: QuarantineConfig = config) {
  let t = 0;
  const w = createQuarantineWindow(c, () => t);
  return { w, at: (ms: number) => void (t = ms) };
}

describe('quarantine window', () => {
  it('trips at the threshold, not before', () => {
    const { w } = clocked();
    expect(w.record('a', 'capability')).toBeNull();
    expect(w.record('a', 'capability')).toBeNull();
    const trip = w.record('a', 'capability');
    expect(trip).toMatchObject({ package: 'a', kind: 'capability', count: 3, windowMs: 1000 });
    expect(trip?.reason).toBe('3 refused capability requests within 1 s');
  });

  it('counts each kind against its own threshold', () => {
    const thresholds: Record<QuarantineKind, number> = { capability: 3, limit: 2, dlp: 4 };
    for (const kind of ['capability', 'limit', 'dlp'] as const) {
      const { w } = clocked();
      for (let i = 1; i < thresholds[kind]; i++) expect(w.record('a', kind)).toBeNull();
      expect(w.record('a', kind)?.kind).toBe(kind);
    }
    // Kinds do not add up: two of each stays below every threshold but limit's.
    const { w } = clocked();
    expect(w.record('a', 'capability')).toBeNull();
    expect(w.record('a', 'dlp')).toBeNull();
    expect(w.record('a', 'capability')).toBeNull();
    expect(w.record('a', 'dlp')).toBeNull();
  });

  it('lets old events leave the window', () => {
    const { w, at } = clocked();
    at(0);
    w.record('a', 'capability');
    at(500);
    w.record('a', 'capability');
    at(1000); // the event at 0 is exactly windowMs old: gone
    expect(w.record('a', 'capability')).toBeNull();
    at(1400);
    expect(w.record('a', 'capability')?.count).toBe(3); // 500, 1000, 1400
  });

  it('counts packages apart, and starts over after a trip or a reset', () => {
    const { w } = clocked();
    w.record('a', 'limit');
    expect(w.record('b', 'limit')).toBeNull();
    expect(w.record('a', 'limit')?.package).toBe('a');
    expect(w.record('a', 'limit')).toBeNull();
    w.reset('b');
    expect(w.record('b', 'limit')).toBeNull();
  });

  it('never trips when disabled', () => {
    const { w } = clocked({ ...config, enabled: false });
    for (let i = 0; i < 100; i++) expect(w.record('a', 'capability')).toBeNull();
  });

  it('fills in safe defaults and keeps what is set', () => {
    expect(parseQuarantineConfig(undefined)).toEqual(DEFAULT_QUARANTINE_CONFIG);
    expect(parseQuarantineConfig({ limitKills: 1 })).toEqual({ ...DEFAULT_QUARANTINE_CONFIG, limitKills: 1 });
    expect(DEFAULT_QUARANTINE_CONFIG.enabled).toBe(true);
  });

  it('counts the limits a package hit, not collateral resets, cancellations or its own throws', () => {
    for (const code of ['SANDBOX_CPU_LIMIT', 'SANDBOX_TIMEOUT', 'SANDBOX_MEMORY_LIMIT', 'OUTPUT_TOO_LARGE', 'QUOTA_EXCEEDED']) expect(kindOfOutcome(code)).toBe('limit');
    for (const code of ['ok', 'ISOLATE_RESET', 'CANCELLED', 'TOOL_THREW', 'WORKER_CRASHED', 'RATE_LIMITED', 'DATA_BLOCKED']) expect(kindOfOutcome(code)).toBeNull();
    expect(LIMIT_CODES.size).toBe(5);
  });

  it('counts refused net and fs requests, not allowed ones nor an open breaker', () => {
    expect(isDenial({ kind: 'net', allowed: false })).toBe(true);
    expect(isDenial({ kind: 'fs', allowed: false })).toBe(true);
    expect(isDenial({ kind: 'net', allowed: true })).toBe(false);
    expect(isDenial({ kind: 'breaker', allowed: false })).toBe(false);
  });
});
