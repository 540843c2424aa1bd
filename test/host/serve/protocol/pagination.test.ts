import { describe, expect, it } from 'vitest';
import { createPaginator } from '../../../../host/serve/protocol/pagination.ts';
import { WireError } from '../../../../host/serve/tool-result.ts';

const items = Array.from({ length: 25 }, (_, i) => `item-${i}`);

function invalidParams(f: () => unknown): void {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(WireError);
  expect((error as WireError).code).toBe(-32602);
}

describe('createPaginator', () => {
  it('walks a list page by page with opaque cursors and ends without one', () => {
    const p = createPaginator({ pageSize: 10 });
    const first = p.page(items, undefined, 1, 'tools/list');
    expect(first.items).toEqual(items.slice(0, 10));
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const second = p.page(items, first.nextCursor, 1, 'tools/list');
    expect(second.items).toEqual(items.slice(10, 20));
    const last = p.page(items, second.nextCursor, 1, 'tools/list');
    expect(last.items).toEqual(items.slice(20));
    expect(last.nextCursor).toBeUndefined();
  });

  it('answers a list that fits in one page without a cursor', () => {
    expect(createPaginator().page(items, undefined, 1, 'tools/list')).toEqual({ items });
  });

  describe('when the cursor was not issued for this list as it is now', () => {
    const p = createPaginator({ pageSize: 10 });
    const cursor = p.page(items, undefined, 1, 'tools/list').nextCursor as string;
    const [body, mac] = cursor.split('.') as [string, string];
    const forged = `${Buffer.from(JSON.stringify([1, 0])).toString('base64url')}.${mac}`;
    it.each([
      ['garbage', 'not-a-cursor'],
      ['an empty string', ''],
      ['a forged offset under the old MAC', forged],
      ['a flipped MAC', `${body}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`],
      ['an over-long cursor', `${body}.${'A'.repeat(500)}`],
    ])('refuses %s with -32602', (_what, bad) => {
      invalidParams(() => p.page(items, bad, 1, 'tools/list'));
    });

    it('refuses a cursor of another version of the list (the list changed)', () => {
      invalidParams(() => p.page(items, cursor, 2, 'tools/list'));
    });

    it('refuses a cursor of another list method', () => {
      invalidParams(() => p.page(items, cursor, 1, 'prompts/list'));
    });

    it('refuses a cursor of another process (another key)', () => {
      invalidParams(() => createPaginator({ pageSize: 10 }).page(items, cursor, 1, 'tools/list'));
    });

    it('refuses a cursor past the end of a list that shrank under the same version', () => {
      invalidParams(() => p.page(items.slice(0, 5), cursor, 1, 'tools/list'));
    });
  });
});
