import { describe, expect, it } from 'vitest';
import { EntryGate, entryBytes } from '../../runtime/entry-gate.ts';

/** Which of `admissions` have resolved, once every microtask queued so far has run. */
async function admitted(admissions: Promise<void>[]): Promise<boolean[]> {
  const done = admissions.map(() => false);
  admissions.forEach((p, i) => void p.then(() => (done[i] = true)));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

const idleNow = (): Promise<void> => Promise.resolve();

describe('EntryGate', () => {
  it('hands entries in back to back while what they copy in stays under the budget', async () => {
    const gate = new EntryGate(1000, idleNow);
    expect(await admitted([gate.admit(100), gate.admit(100), gate.admit(100)])).toEqual([true, true, true]);
  });

  it('holds an entry that would pass the budget until every entry handed before has returned', async () => {
    const gate = new EntryGate(1000, idleNow);
    const a = [gate.admit(600), gate.admit(600)];
    expect(await admitted(a)).toEqual([true, false]);
    gate.returned();
    expect(await admitted(a)).toEqual([true, true]);
  });

  it('keeps the entries\' order: a small entry does not pass one that waits', async () => {
    const gate = new EntryGate(1000, idleNow);
    const a = [gate.admit(600), gate.admit(600), gate.admit(1)];
    expect(await admitted(a)).toEqual([true, false, false]);
    gate.returned();
    expect(await admitted(a)).toEqual([true, true, true]);
  });

  it('counts from the last time the isolate was seen idle', async () => {
    const gate = new EntryGate(1000, idleNow);
    await gate.admit(900);
    gate.returned();
    expect(await admitted([gate.admit(900)])).toEqual([true]);
    gate.returned();
    expect(await admitted([gate.admit(50)])).toEqual([true]);
  });

  it('waits, past every entry returning, until the isolate is seen idle', async () => {
    let seeIdle = (): void => undefined;
    const gate = new EntryGate(1000, () => new Promise<void>((resolve) => (seeIdle = resolve)));
    const a = [gate.admit(600), gate.admit(600)];
    gate.returned();
    expect(await admitted(a)).toEqual([true, false]);
    seeIdle();
    expect(await admitted(a)).toEqual([true, true]);
  });

  it('lets the queue empty after a number of entries, however small', async () => {
    const gate = new EntryGate(1000, idleNow, 3);
    const a = [gate.admit(0), gate.admit(0), gate.admit(0), gate.admit(0)];
    expect(await admitted(a)).toEqual([true, true, true, false]);
    for (let i = 0; i < 3; i++) gate.returned();
    expect(await admitted(a)).toEqual([true, true, true, true]);
  });

  it('admits an entry larger than the budget when nothing else is handed in', async () => {
    const gate = new EntryGate(1000, idleNow);
    expect(await admitted([gate.admit(5000)])).toEqual([true]);
  });
});

describe('entryBytes', () => {
  it('adds up strings and buffers, and nothing else', () => {
    expect(entryBytes([1, 'abc', new ArrayBuffer(10), null, true, 'de'])).toBe(15);
  });
});
