import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROGRESS_INTERVAL_MS, progressForwarder } from '../../../../host/serve/protocol/progress.ts';
import type { ProgressParams } from '../../../../host/serve/protocol/progress.ts';

/** The clock is faked (setTimeout and performance.now): no assertion depends on the machine's speed. */
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function forwarder(): { sent: ProgressParams[]; f: NonNullable<ReturnType<typeof progressForwarder>> } {
  const sent: ProgressParams[] = [];
  const f = progressForwarder('t', (p) => sent.push(p));
  if (!f) throw new Error('expected a forwarder');
  return { sent, f };
}

describe('progress forwarding', () => {
  it('forwards nothing for a request without a valid progress token', () => {
    expect(progressForwarder(undefined, () => {})).toBeUndefined();
    expect(progressForwarder({ a: 1 }, () => {})).toBeUndefined();
  });

  it('thins a tight loop to one notification per interval and keeps the latest report, sent when the interval ends', () => {
    const { sent, f } = forwarder();
    for (let i = 1; i <= 1000; i++) f.onProgress({ progress: i });
    expect(sent.map((p) => p.progress)).toEqual([1]);
    vi.advanceTimersByTime(PROGRESS_INTERVAL_MS);
    expect(sent.map((p) => p.progress)).toEqual([1, 1000]);
  });

  it('sends the waiting report before the final one, so the last steps of a tool all arrive in order', () => {
    const { sent, f } = forwarder();
    f.onProgress({ progress: 0, total: 100 });
    f.onProgress({ progress: 50, total: 100 });
    f.onProgress({ progress: 100, total: 100 });
    expect(sent.map((p) => p.progress)).toEqual([0, 50, 100]);
  });

  it('sends the waiting report on flush (before the response) and nothing after it', () => {
    const { sent, f } = forwarder();
    f.onProgress({ progress: 1, message: 'a' });
    f.onProgress({ progress: 2, message: 'b' });
    f.flush();
    expect(sent).toEqual([
      { progressToken: 't', progress: 1, message: 'a' },
      { progressToken: 't', progress: 2, message: 'b' },
    ]);
    f.onProgress({ progress: 3 });
    vi.advanceTimersByTime(10 * PROGRESS_INTERVAL_MS);
    expect(sent).toHaveLength(2);
  });

  it('ignores reports that do not increase or are not finite, and bounds the message', () => {
    const { sent, f } = forwarder();
    f.onProgress({ progress: 5, message: 'x'.repeat(10_000) });
    vi.advanceTimersByTime(PROGRESS_INTERVAL_MS);
    f.onProgress({ progress: 5 });
    f.onProgress({ progress: 4 });
    f.onProgress({ progress: Number.NaN });
    f.onProgress({ progress: Number.POSITIVE_INFINITY });
    vi.advanceTimersByTime(PROGRESS_INTERVAL_MS);
    expect(sent.map((p) => p.progress)).toEqual([5]);
    expect((sent[0]?.message ?? '').length).toBeLessThan(300);
  });
});
