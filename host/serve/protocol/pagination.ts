/**
 * Pagination of the list methods (tools/list, resources/list, resources/templates/list, prompts/list).
 * A cursor is opaque to the client: the offset of the next page and the version of the list it was cut
 * from, authenticated with an HMAC under a key that lives only in this process.
 *
 * Threat: a cursor comes back from the client and may be forged, replayed against a changed list, or huge.
 * A cursor that is not exactly one this process issued for the list as it is now is refused with -32602
 * (the spec's "Invalid params" for an invalid cursor), never guessed at or silently restarted.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { WireError } from '../tool-result.ts';

/** Items per page unless configured otherwise. */
export const DEFAULT_PAGE_SIZE = 100;
/** JSON-RPC "Invalid params". */
const INVALID_PARAMS = -32602;
/** No cursor this module issues is longer. */
const MAX_CURSOR_CHARS = 128;
const MAC_BYTES = 16;

export interface Page<T> {
  readonly items: T[];
  /** Present when more items follow. */
  readonly nextCursor?: string;
}

export interface Paginator {
  readonly pageSize: number;
  /**
   * The page of `items` that `cursor` points at (the first page without one). `version` identifies the
   * list's content: a cursor issued for another version is refused.
   * @throws WireError -32602 for a cursor that is malformed, forged, or for another version of the list
   */
  page<T>(items: readonly T[], cursor: string | undefined, version: number, list: string): Page<T>;
}

export interface PaginatorOptions {
  readonly pageSize?: number;
  /** The HMAC key (at least 32 bytes); a fresh random one by default. */
  readonly key?: Uint8Array;
}

function invalid(list: string): WireError {
  return new WireError(INVALID_PARAMS, `Invalid cursor for ${list} (list again without a cursor)`);
}

export function createPaginator(options: PaginatorOptions = {}): Paginator {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new RangeError(`page size must be a positive integer, got ${pageSize}`);
  const key = options.key ?? randomBytes(32);
  if (key.length < 32) throw new RangeError('the cursor key must be at least 32 bytes');
  // The list name is part of what is signed: a tools/list cursor is no prompts/list cursor.
  const mac = (list: string, body: string): Buffer => createHmac('sha256', key).update(list).update('\0').update(body).digest().subarray(0, MAC_BYTES);
  const issue = (list: string, version: number, offset: number): string => {
    const body = Buffer.from(JSON.stringify([version, offset])).toString('base64url');
    return `${body}.${mac(list, body).toString('base64url')}`;
  };
  const offsetOf = (list: string, cursor: unknown, version: number, length: number): number => {
    if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_CHARS) throw invalid(list);
    const dot = cursor.indexOf('.');
    if (dot <= 0) throw invalid(list);
    const body = cursor.slice(0, dot);
    const given = Buffer.from(cursor.slice(dot + 1), 'base64url');
    // Compared in constant time, and only then parsed: nothing a client forged is ever interpreted.
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(list, body))) throw invalid(list);
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw invalid(list);
    }
    if (!Array.isArray(decoded) || decoded.length !== 2 || decoded[0] !== version) throw invalid(list);
    const offset: unknown = decoded[1];
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 1 || offset >= length) throw invalid(list);
    return offset;
  };
  return {
    pageSize,
    page<T>(items: readonly T[], cursor: string | undefined, version: number, list: string): Page<T> {
      const start = cursor === undefined ? 0 : offsetOf(list, cursor, version, items.length);
      const end = start + pageSize;
      const page = items.slice(start, end);
      return end < items.length ? { items: page, nextCursor: issue(list, version, end) } : { items: page };
    },
  };
}
