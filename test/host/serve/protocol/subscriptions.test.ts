import { describe, expect, it } from 'vitest';
import { createSubscriptions } from '../../../../host/serve/protocol/subscriptions.ts';

describe('createSubscriptions', () => {
  it('finds the subscribed URIs of the packages a reload touched', () => {
    const s = createSubscriptions();
    s.add('x://a/1', 'a');
    s.add('x://a/2', 'a');
    s.add('x://b/1', 'b');
    s.remove('x://a/2');
    expect(s.servedBy(new Set(['a']))).toEqual(['x://a/1']);
    expect(s.servedBy(new Set(['c']))).toEqual([]);
  });

  it('refuses a subscription past its limit, but not a repeated one', () => {
    const s = createSubscriptions(2);
    expect(s.add('x://1', 'a')).toBe(true);
    expect(s.add('x://2', 'a')).toBe(true);
    expect(s.add('x://3', 'a')).toBe(false);
    expect(s.add('x://1', 'a')).toBe(true);
    expect(s.uris()).toEqual(['x://1', 'x://2']);
  });
});
