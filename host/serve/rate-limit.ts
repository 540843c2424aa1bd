/**
 * Optional per-package call rate limits (token buckets), set with `serve --rate-limit`. Off by default: a
 * client's calls are never refused for their rate. Overload is handled by the sandbox instead: each
 * package's calls wait in its bounded queue (runtime), and the transport stops reading stdin while too many
 * requests are in flight (transport.ts), so a client that sends faster than the tools run is slowed, not
 * refused. A user who wants a hard cap per package (a confused model calling in a tight loop) sets one.
 */
export interface RateLimitOptions {
  /** Tokens added per second. */
  readonly perSecond: number;
  /** Bucket size: calls allowed in a burst. */
  readonly burst: number;
}

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
