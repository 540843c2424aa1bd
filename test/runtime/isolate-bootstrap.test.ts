import { describe, expect, it } from 'vitest';
import { CodeCache, bootstrapFactorySource } from '../../runtime/isolate-bootstrap.ts';

describe('bootstrapFactorySource', () => {
  it('is a function of the three Callbacks, the same text every time', () => {
    const src = bootstrapFactorySource();
    expect(src.startsWith('(function ($0, $1, $2) {')).toBe(true);
    expect(src.endsWith('\n})')).toBe(true);
    expect(bootstrapFactorySource()).toBe(src);
  });
});

describe('CodeCache', () => {
  it('keeps the cache the first compile produced, and reports later compiles as cached', () => {
    const cache = new CodeCache<object>();
    const made = {};
    expect(cache.settle(cache.current(), made, false)).toBe(false);
    expect(cache.current()).toBe(made);
    expect(cache.settle(cache.current(), undefined, false)).toBe(true);
  });

  it('drops a cache V8 rejected, so the next compile makes one again', () => {
    const cache = new CodeCache<object>();
    const made = {};
    cache.settle(null, made, false);
    expect(cache.settle(made, undefined, true)).toBe(false);
    expect(cache.current()).toBeNull();
  });

  it('keeps a newer cache when an older rejected one is settled late', () => {
    const cache = new CodeCache<object>();
    const old = {};
    const newer = {};
    cache.settle(null, old, false);
    cache.settle(old, undefined, true);
    cache.settle(null, newer, false);
    cache.settle(old, undefined, true);
    expect(cache.current()).toBe(newer);
  });
});
