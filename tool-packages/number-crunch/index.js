// number-crunch: long work done in chunks. Between chunks it reports ctx.progress and yields to the event
// loop, so a cancellation (ctx.signal) is seen promptly and the call stops cleanly.

const pause = () => new Promise((resolve) => setTimeout(resolve, 0));

function checkCancelled(ctx) {
  if (ctx.signal.aborted) throw new Error('cancelled');
}

function basePrimes(n) {
  const sieve = new Uint8Array(n + 1);
  const primes = [];
  for (let i = 2; i <= n; i++) {
    if (sieve[i]) continue;
    primes.push(i);
    for (let j = i * i; j <= n; j += i) sieve[j] = 1;
  }
  return primes;
}

export default {
  async count_primes({ limit, segment = 1000000 }, ctx) {
    const small = basePrimes(Math.floor(Math.sqrt(limit)) + 1);
    let count = 0;
    let largest = null;
    const mark = new Uint8Array(segment);
    for (let low = 2; low <= limit; low += segment) {
      checkCancelled(ctx);
      const high = Math.min(low + segment - 1, limit);
      mark.fill(0);
      for (const p of small) {
        if (p * p > high) break;
        for (let j = Math.max(p * p, Math.ceil(low / p) * p); j <= high; j += p) mark[j - low] = 1;
      }
      for (let i = 0; i <= high - low; i++) {
        if (!mark[i]) {
          count++;
          largest = low + i;
        }
      }
      ctx.progress(high - 1, limit - 1, `sieved up to ${high}`);
      await pause();
    }
    return { limit, count, largest };
  },

  async iterated_hash({ text, iterations }, ctx) {
    let data = new TextEncoder().encode(text);
    const chunk = 2000;
    for (let done = 0; done < iterations; ) {
      checkCancelled(ctx);
      const n = Math.min(chunk, iterations - done);
      for (let i = 0; i < n; i++) data = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
      done += n;
      ctx.progress(done, iterations);
    }
    return Array.from(data, (b) => b.toString(16).padStart(2, '0')).join('');
  },
};
