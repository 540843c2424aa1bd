/**
 * Whether a string's UTF-8 encoding is longer than `limit` bytes, counting its bytes only when its length
 * leaves the answer open. Each UTF-16 unit takes one to three bytes (a surrogate pair four bytes for two
 * units; a lone surrogate three, as U+FFFD), so a text of `n` units has between `n` and `3n` bytes:
 * counting a large result byte by byte costs ~0.4 ms per MB, and most results are far from their limit.
 */
export function utf8LongerThan(text: string, limit: number): boolean {
  if (text.length > limit) return true;
  if (text.length * 3 <= limit) return false;
  return Buffer.byteLength(text, 'utf8') > limit;
}
