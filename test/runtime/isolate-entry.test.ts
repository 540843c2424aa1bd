import { describe, expect, it } from 'vitest';
import { EntryError, describeFailure, entryFailureOf, entryTimeoutMs, heapInUse, isolateHeapMb } from '../../runtime/isolate-entry.ts';

describe('entryFailureOf', () => {
  const timedOut = new Error('Script execution timed out.');
  it.each([
    ['the worker disposed the isolate', timedOut, true, true, 'disposed'],
    ['isolated-vm disposed it by itself (its heap limit)', new Error('Isolate was disposed'), false, true, 'memory'],
    ['the entry timeout fired', timedOut, false, false, 'timeout'],
    ['anything else (an unhandled rejection)', new Error('boom'), false, false, 'rejection'],
    ['a thrown non-Error', 'nope', false, false, 'rejection'],
  ])('when %s, reports what fired', (_what, e, disposedByUs, disposed, expected) => {
    expect(entryFailureOf(e, disposedByUs, disposed)).toBe(expected);
  });
});

describe('describeFailure', () => {
  it('bounds an error message to 300 characters', () => {
    expect(describeFailure(new Error('x'.repeat(1000)))).toHaveLength(300);
  });
  it('says nothing of what a non-Error carries', () => {
    expect(describeFailure({ path: '/home/me' })).toBe('unknown failure');
  });
});

describe('the isolate arithmetic', () => {
  it('never makes an isolate with a heap limit under 8 MiB', () => {
    expect(isolateHeapMb(1).limitMb).toBe(8);
    expect(isolateHeapMb(16).limitMb).toBe(10);
  });
  it("sizes the young generation at an eighth of the limit (1 to 16 MiB a semi-space), taken out of the old generation's share", () => {
    expect(isolateHeapMb(64)).toEqual({ limitMb: 40, semiSpaceMb: 8 });
    expect(isolateHeapMb(8)).toEqual({ limitMb: 8, semiSpaceMb: 1 });
    expect(isolateHeapMb(1024)).toEqual({ limitMb: 976, semiSpaceMb: 16 });
    for (const mb of [16, 32, 64, 100, 128, 256, 4096]) {
      const { limitMb, semiSpaceMb } = isolateHeapMb(mb);
      expect(limitMb + 3 * semiSpaceMb).toBe(mb);
    }
  });
  it('gives every entry a whole timeout of at least 1 ms (0 would mean none)', () => {
    expect(entryTimeoutMs(0)).toBe(1);
    expect(entryTimeoutMs(-5)).toBe(1);
    expect(entryTimeoutMs(12.1)).toBe(13);
  });
  it('counts external memory in the heap in use', () => {
    expect(heapInUse({ used_heap_size: 100, externally_allocated_size: 23 })).toBe(123);
  });
});

describe('EntryError', () => {
  it('carries the failure and the CPU time the entry used', () => {
    const e = new EntryError('timeout', 'stopped', 42);
    expect([e.failure, e.cpuMs, e.message, e instanceof Error]).toEqual(['timeout', 42, 'stopped', true]);
  });
});
