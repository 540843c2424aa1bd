/**
 * The `code` an operation fails with, for assertions like `expect(codeOf(() => f())).toBe('TLOG_MISSING')`:
 * a failure without a code, or no failure, yields a string that cannot equal any code.
 */
function codeFrom(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : `<uncoded: ${e instanceof Error ? e.message : String(e)}>`;
}

export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return codeFrom(e);
  }
  return '<no error>';
}

export async function asyncCodeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return codeFrom(e);
  }
  return '<no error>';
}

/** The error an async operation fails with (its code and message), or `{ message: '<no error>' }`. */
export async function errorOf(fn: () => Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await fn();
  } catch (e) {
    return e as { code?: string; message: string };
  }
  return { message: '<no error>' };
}

/** What a promise rejects with. @throws when it resolves */
export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** The JSON-RPC code of an error a client (SDK v1 McpError or v2 ProtocolError) threw; undefined otherwise. */
export function rpcCodeOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'number' ? code : undefined;
}
