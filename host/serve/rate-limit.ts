/**
 * Per-package call rate limits (token buckets). A package that is called in a tight loop (by a confused
 * model or a hostile prompt) cannot monopolise the sandbox: each package has its own bucket.
 */
export interface RateLimitOptions {
  /** Tokens added per second. */
  readonly perSecond: number;
  /** Bucket size: calls allowed in a burst. */
  readonly burst: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = Object.freeze({ perSecond: 20, burst: 40 });

export interface RateLimiter {
  /** Takes a token for `key`; false when the bucket is empty. */
  take(key: string): boolean;
}

export function createRateLimiter(options: RateLimitOptions, now: () => number = () => performance.now()): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      const t = now();
      const b = buckets.get(key) ?? { tokens: options.burst, at: t };
      b.tokens = Math.min(options.burst, b.tokens + ((t - b.at) / 1000) * options.perSecond);
      b.at = t;
      buckets.set(key, b);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
  };
}

/** Parses "N/s" or "N/s:BURST" (e.g. "5/s:10"). */
export function parseRateLimit(text: string): RateLimitOptions | null {
  const m = /^(\d+(?:\.\d+)?)\/s(?::(\d+))?$/.exec(text.trim());
  if (!m) return null;
  const perSecond = Number(m[1]);
  const burst = m[2] === undefined ? Math.max(1, Math.ceil(perSecond * 2)) : Number(m[2]);
  if (!(perSecond > 0) || !(burst >= 1)) return null;
  return { perSecond, burst };
}
