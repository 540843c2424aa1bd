import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { CLOSED, DEFAULT_BREAKER_CONFIG, admit, createBreakerRegistry, parseBreakerConfig, record } from '../../../runtime/io/breaker.ts';
import type { BreakerConfig, BreakerState } from '../../../runtime/io/breaker.ts';
import { SandboxError } from '../../../runtime/errors.ts';
import type { CapabilityEvent } from '../../../runtime/types.ts';
import { configSectionSchema } from '../../helpers/config-schema.ts';

const schema = configSectionSchema('circuitBreaker');

const CONFIG: BreakerConfig = { enabled: true, failureThreshold: 3, cooldownMs: 10_000 };

/** A clock the test moves by hand: no timing assumptions. */
function testClock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as SandboxError).code;
  }
  return 'OK';
}

describe('the breaker state machine (pure)', () => {
  it('opens after failureThreshold failures in a row, not before', () => {
    let s: BreakerState = CLOSED;
    s = record(s, 'failure', false, 0, CONFIG);
    s = record(s, 'failure', false, 0, CONFIG);
    expect(s).toEqual({ kind: 'closed', failures: 2 });
    s = record(s, 'failure', false, 5, CONFIG);
    expect(s).toEqual({ kind: 'open', retryAt: 10_005 });
  });

  it('a success in between resets the count', () => {
    let s: BreakerState = CLOSED;
    for (const o of ['failure', 'failure', 'success', 'failure', 'failure'] as const) s = record(s, o, false, 0, CONFIG);
    expect(s).toEqual({ kind: 'closed', failures: 2 });
  });

  it('fails fast while open, with the time left as retry-after', () => {
    const a = admit({ kind: 'open', retryAt: 10_000 }, 7_500, CONFIG);
    expect(a).toEqual({ admitted: false, retryAfterMs: 2_500, next: { kind: 'open', retryAt: 10_000 } });
  });

  it('half-opens after the cool-down and lets exactly one trial through', () => {
    const a = admit({ kind: 'open', retryAt: 10_000 }, 10_000, CONFIG);
    expect(a).toEqual({ admitted: true, trial: true, next: { kind: 'half-open', trial: true } });
    expect(admit(a.next, 10_001, CONFIG)).toMatchObject({ admitted: false });
  });

  it('a successful trial closes it; a failed trial opens it for another cool-down', () => {
    expect(record({ kind: 'half-open', trial: true }, 'success', true, 20_000, CONFIG)).toEqual(CLOSED);
    expect(record({ kind: 'half-open', trial: true }, 'failure', true, 20_000, CONFIG)).toEqual({ kind: 'open', retryAt: 30_000 });
  });

  it('an abandoned trial (cancelled) frees the slot without deciding anything', () => {
    expect(record({ kind: 'half-open', trial: true }, 'abandoned', true, 0, CONFIG)).toEqual({ kind: 'half-open', trial: false });
    expect(record({ kind: 'closed', failures: 2 }, 'abandoned', false, 0, CONFIG)).toEqual({ kind: 'closed', failures: 2 });
  });

  it('late results of requests admitted before it opened change nothing', () => {
    expect(record({ kind: 'open', retryAt: 9 }, 'success', false, 0, CONFIG)).toEqual({ kind: 'open', retryAt: 9 });
    expect(record({ kind: 'half-open', trial: true }, 'success', false, 0, CONFIG)).toEqual({ kind: 'half-open', trial: true });
  });
});

describe('the breaker registry', () => {
  it('opens, fails fast, half-opens and closes, per package and origin, reporting each change', () => {
    const clock = testClock();
    const events: CapabilityEvent[] = [];
    const reg = createBreakerRegistry(CONFIG, clock.now);
    const a = reg.forPackage('pkg-a', (e) => events.push(e));
    const b = reg.forPackage('pkg-b', (e) => events.push(e));
    const origin = 'https://api.example.com:443';
    for (let i = 0; i < 3; i++) a.enter(origin, 'GET')('failure');
    expect(events).toEqual([{ kind: 'breaker', op: 'open', target: origin, allowed: false, code: 'CIRCUIT_OPEN' }]);

    // Fails fast: another package, and another origin of the same package, are not affected.
    let err: unknown;
    try {
      a.enter(origin, 'POST');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SandboxError);
    expect((err as SandboxError).code).toBe('CIRCUIT_OPEN');
    expect((err as SandboxError).message).toMatch(/retry after 10 s \(retryAfterMs=10000\)/);
    expect(events.at(-1)).toEqual({ kind: 'net', op: 'POST', target: origin, allowed: false, code: 'CIRCUIT_OPEN' });
    expect(codeOf(() => b.enter(origin, 'GET')('success'))).toBe('OK');
    expect(codeOf(() => a.enter('https://other.example.com:443', 'GET')('success'))).toBe('OK');

    clock.advance(9_999);
    expect(codeOf(() => a.enter(origin, 'GET'))).toBe('CIRCUIT_OPEN');
    clock.advance(1);
    events.length = 0;
    const trial = a.enter(origin, 'GET');
    expect(events).toEqual([{ kind: 'breaker', op: 'half-open', target: origin, allowed: true }]);
    expect(codeOf(() => a.enter(origin, 'GET'))).toBe('CIRCUIT_OPEN'); // one trial at a time
    trial('success');
    expect(events.at(-1)).toEqual({ kind: 'breaker', op: 'close', target: origin, allowed: true });
    expect(codeOf(() => a.enter(origin, 'GET')('success'))).toBe('OK');
  });

  it('a failed trial opens it again for a full cool-down', () => {
    const clock = testClock();
    const events: CapabilityEvent[] = [];
    const a = createBreakerRegistry(CONFIG, clock.now).forPackage('p', (e) => events.push(e));
    for (let i = 0; i < 3; i++) a.enter('o', 'GET')('failure');
    clock.advance(10_000);
    a.enter('o', 'GET')('failure');
    expect(events.map((e) => e.op)).toEqual(['open', 'half-open', 'open']);
    clock.advance(9_999);
    expect(codeOf(() => a.enter('o', 'GET'))).toBe('CIRCUIT_OPEN');
  });

  it('counts each outcome once', () => {
    const a = createBreakerRegistry(CONFIG, testClock().now).forPackage('p', () => undefined);
    const done = a.enter('o', 'GET');
    for (let i = 0; i < 5; i++) done('failure');
    expect(codeOf(() => a.enter('o', 'GET'))).toBe('OK');
  });

  it('when disabled, nothing is counted and nothing refused', () => {
    const a = createBreakerRegistry({ ...CONFIG, enabled: false }, testClock().now).forPackage('p', () => undefined);
    for (let i = 0; i < 10; i++) a.enter('o', 'GET')('failure');
    expect(codeOf(() => a.enter('o', 'GET'))).toBe('OK');
  });
});

describe('parseBreakerConfig and its published schema', () => {
  const validate = new Ajv2020({ strict: true }).compile(schema);
  it.each([
    [undefined, true],
    [{}, true],
    [{ enabled: false }, true],
    [{ failureThreshold: 1, cooldownMs: 0 }, true],
    [{ failureThreshold: 1000, cooldownMs: 86_400_000 }, true],
    [{ failureThreshold: 0 }, false],
    [{ failureThreshold: 2.5 }, false],
    [{ cooldownMs: -1 }, false],
    [{ cooldownMs: '30s' }, false],
    [{ enabled: 'yes' }, false],
    [{ threshold: 3 }, false],
    [[], false],
    ['on', false],
  ])('%j → valid %s, the same for both', (raw, ok) => {
    const parsed = parseBreakerConfig(raw);
    expect(parsed.ok).toBe(ok);
    if (raw !== undefined) expect(validate(raw)).toBe(ok);
    if (!parsed.ok) expect(parsed.error).toMatch(/^circuitBreaker/);
  });

  it('fills in safe defaults', () => {
    expect(parseBreakerConfig({ failureThreshold: 2 })).toEqual({ ok: true, config: { ...DEFAULT_BREAKER_CONFIG, failureThreshold: 2 } });
    expect(DEFAULT_BREAKER_CONFIG).toEqual({ enabled: true, failureThreshold: 5, cooldownMs: 30_000 });
  });
});
