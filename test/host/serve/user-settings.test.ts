import { describe, expect, it } from 'vitest';
import { codeOf } from '../../helpers/codes.ts';
import { effectiveLimits } from '../../../host/manifest.ts';
import { lowerLimits, parseLimitFlags, parseUserSettings } from '../../../host/serve/user-settings.ts';

describe('lowerLimits', () => {
  it('lowers, and never raises a limit above the package\'s', () => {
    const base = effectiveLimits({ cpuMs: 1000 });
    const out = lowerLimits(base, { cpuMs: 500, memoryMb: 4096, wallMs: 0 });
    expect(out.cpuMs).toBe(500);
    expect(out.memoryMb).toBe(base.memoryMb);
    expect(out.wallMs).toBe(base.wallMs);
  });
});

describe('parseUserSettings (lock.json)', () => {
  it('accepts fresh and known limits', () => {
    expect(parseUserSettings({ fresh: true, limits: { cpuMs: 10 } }, 'p')).toEqual({ fresh: true, limits: { cpuMs: 10 } });
  });

  it.each([
    ['not an object', 'yes'],
    ['an unknown key', { fresher: true }],
    ['a non-boolean fresh', { fresh: 'yes' }],
    ['an unknown limit', { limits: { gpuMs: 1 } }],
    ['a negative limit', { limits: { cpuMs: -1 } }],
    ['a fractional limit', { limits: { cpuMs: 1.5 } }],
  ])('refuses %s with LOCK_INVALID', (_what, raw) => {
    expect(codeOf(() => parseUserSettings(raw, 'p'))).toBe('LOCK_INVALID');
  });
});

describe('parseLimitFlags (grant --limit)', () => {
  it('refuses a value above the current limit, zero, or a malformed flag with USAGE', () => {
    const current = effectiveLimits({});
    expect(parseLimitFlags(['cpuMs=500', 'memoryMb=32'], current)).toEqual({ cpuMs: 500, memoryMb: 32 });
    expect(codeOf(() => parseLimitFlags([`cpuMs=${current.cpuMs + 1}`], current))).toBe('USAGE');
    expect(codeOf(() => parseLimitFlags(['cpuMs=0'], current))).toBe('USAGE');
    expect(codeOf(() => parseLimitFlags(['cpuMs'], current))).toBe('USAGE');
  });
});
