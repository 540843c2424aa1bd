/**
 * The quarantine in serve (host/serve/quarantine-guard.ts): what the audit trail records is what counts;
 * a trip is held, recorded (audit, quarantine.json) and reported once; `enable` (a re-read without the
 * name) starts the count over. The clock is injected.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { homeLayout } from '../../../host/home/home.ts';
import { removeQuarantine } from '../../../host/home/quarantine-file.ts';
import type { Audit } from '../../../host/serve/audit.ts';
import type { PackageRecord } from '../../../host/serve/audit-records.ts';
import { createLogger } from '../../../host/serve/logger.ts';
import { createQuarantineGuard } from '../../../host/serve/quarantine-guard.ts';
import type { Trip } from '../../../host/serve/quarantine.ts';

function setup(config = { enabled: true, windowMs: 60_000, capabilityDenials: 2, limitKills: 2, dlpBlocks: 2 }) {
  const home = homeLayout(mkdtempSync(join(tmpdir(), 'mcpw-guard-')));
  const pkgRecords: PackageRecord[] = [];
  const calls: string[] = [];
  const audit: Audit = {
    call: (r) => void calls.push(r.outcome),
    dlp: () => {},
    capability: () => {},
    pkg: (r) => void pkgRecords.push(r),
    digest: () => 'd',
    drain: async () => {},
    close: async () => {},
  };
  const trips: { trip: Trip; written: Promise<void> }[] = [];
  let t = 0;
  const guard = createQuarantineGuard({ home, config, audit, logger: createLogger({ level: 'silent' }), now: () => t, onTrip: (trip, written) => void trips.push({ trip, written }) });
  return { home, guard, pkgRecords, calls, trips, at: (ms: number) => void (t = ms) };
}

const call = (pkg: string, outcome: string) => ({ package: pkg, version: '1', tool: 't', argsDigest: 'd', durationMs: 1, outcome });
const denied = { kind: 'net' as const, op: 'GET', target: 'https://evil.example.com:443', allowed: false, code: 'NET_NOT_GRANTED' as const };

describe('quarantine guard', () => {
  it('counts limit kills from call outcomes, passing every record on', async () => {
    const s = setup();
    s.guard.audit.call(call('a', 'SANDBOX_CPU_LIMIT'));
    s.guard.audit.call(call('a', 'TOOL_THREW'));
    s.guard.audit.call(call('a', 'ok'));
    expect(s.trips).toHaveLength(0);
    s.guard.audit.call(call('a', 'SANDBOX_TIMEOUT'));
    expect(s.calls).toEqual(['SANDBOX_CPU_LIMIT', 'TOOL_THREW', 'ok', 'SANDBOX_TIMEOUT']);
    expect(s.trips.map((x) => x.trip)).toEqual([expect.objectContaining({ package: 'a', kind: 'limit', count: 2 })]);
    await s.trips[0]?.written;
    expect(JSON.parse(readFileSync(join(s.home.dir, 'quarantine.json'), 'utf8')).packages.a).toMatchObject({ kind: 'limit', since: new Date(0).toISOString() });
    expect(s.pkgRecords).toEqual([{ package: 'a', event: 'quarantined', code: 'PACKAGE_QUARANTINED', reason: '2 calls ended by a limit within 60 s' }]);
    expect(s.guard.split([{ name: 'a' }, { name: 'b' }])).toEqual({ served: [{ name: 'b' }], held: [{ name: 'a' }] });
  });

  it('counts refused capability requests and DLP blocks, not allowed requests, breakers or redactions', () => {
    const s = setup();
    s.guard.audit.capability('a', 't', { ...denied, allowed: true });
    s.guard.audit.capability('a', 't', { kind: 'breaker', op: 'open', target: 'https://x:443', allowed: false, code: 'CIRCUIT_OPEN' });
    s.guard.audit.dlp({ package: 'b', tool: 't', detector: 'card', action: 'redact', where: 'result', count: 1 });
    s.guard.audit.dlp({ package: 'b', tool: 't', detector: 'card', action: 'block', where: 'result', count: 1 });
    s.guard.audit.capability('a', 't', denied);
    expect(s.trips).toHaveLength(0);
    s.guard.audit.capability('a', 't', denied);
    s.guard.audit.dlp({ package: 'b', tool: 't', detector: 'card', action: 'block', where: 'fetch-body', count: 1 });
    expect(s.trips.map((x) => [x.trip.package, x.trip.kind])).toEqual([['a', 'capability'], ['b', 'dlp']]);
  });

  it('trips once, and counts from zero after enable', async () => {
    const s = setup();
    for (let i = 0; i < 5; i++) s.guard.audit.capability('a', 't', denied);
    expect(s.trips).toHaveLength(1);
    await s.trips[0]?.written;
    await s.guard.refresh();
    expect(s.guard.entry('a')?.kind).toBe('capability');
    expect(await removeQuarantine(s.home, 'a')).toBe(true);
    await s.guard.refresh();
    expect(s.guard.entry('a')).toBeUndefined();
    s.guard.audit.capability('a', 't', denied);
    expect(s.trips).toHaveLength(1);
    s.guard.audit.capability('a', 't', denied);
    expect(s.trips).toHaveLength(2);
  });

  it('lets events leave the window', () => {
    const s = setup();
    s.at(0);
    s.guard.audit.capability('a', 't', denied);
    s.at(60_000);
    s.guard.audit.capability('a', 't', denied);
    expect(s.trips).toHaveLength(0);
  });
});
