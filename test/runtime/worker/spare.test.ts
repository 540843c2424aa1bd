import { describe, expect, it } from 'vitest';
import { SPARE_IDLE_MS, SPARE_REFILL_MS, spareRefillWait } from '../../../runtime/worker/spare.ts';

// When a worker prepares the spare isolate that replaces the one a package's first call took (issue 14,
// the cold call): not while calls run, not right after one, and never later than SPARE_REFILL_MS.
describe('the next spare isolate is prepared', () => {
  const taken = 1000;
  const by = taken + SPARE_REFILL_MS;

  it('not while a call runs: it looks again after the idle period', () => {
    expect(spareRefillWait(taken + 5, taken + 5, 1, by)).toBe(SPARE_IDLE_MS);
  });

  it('not right after a call: only once no call started or ended for the idle period', () => {
    expect(spareRefillWait(taken + 10, taken + 9, 0, by)).toBe(SPARE_IDLE_MS - 1);
    expect(spareRefillWait(taken + 10, taken + 10 - SPARE_IDLE_MS, 0, by)).toBe(0);
  });

  it('at once on an idle worker', () => {
    expect(spareRefillWait(taken + 50, 0, 0, by)).toBe(0);
  });

  it('at the latest SPARE_REFILL_MS after the spare was taken, however busy the worker is', () => {
    expect(spareRefillWait(by - 1, by - 1, 3, by)).toBe(1);
    expect(spareRefillWait(by, by, 3, by)).toBe(0);
  });
});
