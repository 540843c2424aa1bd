import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../../host/serve/redact.ts';

describe('createRedactor with the secret values serve holds', () => {
  it('hides every value (read at each call, so a reload\'s new values count), shorter env values left alone', () => {
    let values = ['abcd-secret'];
    const redact = createRedactor({ secrets: () => values });
    expect(redact('failed with abcd-secret twice: abcd-secret')).toBe('failed with [secret] twice: [secret]');
    values = ['new-value-1'];
    expect(redact('now new-value-1, then abcd-secret')).toBe('now [secret], then abcd-secret');
  });

  it('ignores values too short to be secrets (a 1-character value would blank every message)', () => {
    expect(createRedactor({ secrets: () => ['a'] })('a cat')).toBe('a cat');
  });
});
