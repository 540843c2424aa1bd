import { describe, expect, it } from 'vitest';
import { utf8LongerThan } from '../../runtime/utf8-length.ts';
import { prng } from '../helpers/prng.ts';

describe('utf8LongerThan', () => {
  it("answers as Buffer.byteLength does, for every limit around the text's bounds", () => {
    const samples = ['', 'a', 'é', '€', '😀', '\ud800', '\udfff', 'a\ud800b', '😀\ud83d', 'abc€😀é', '€'.repeat(5), '😀'.repeat(4)];
    const random = prng(14);
    // Random mixes of 1-, 2-, 3- and 4-byte characters and lone surrogates.
    const pieces = ['x', 'ß', '中', '😀', '\ud83d', '\ude00'];
    for (let i = 0; i < 300; i++) samples.push(Array.from({ length: Math.floor(random() * 12) }, () => pieces[Math.floor(random() * pieces.length)]).join(''));
    for (const text of samples) {
      const bytes = Buffer.byteLength(text, 'utf8');
      for (let limit = 0; limit <= text.length * 3 + 1; limit++) expect(utf8LongerThan(text, limit), `${JSON.stringify(text)} under ${limit}`).toBe(bytes > limit);
    }
  });
});
