/**
 * The synchronous helpers the bootstrap may call through its `syncOp` Callback (runtime/isolate.ts):
 * URL parsing, random bytes, digests, UTF-8. Their arguments come from tool code and are untrusted:
 * primitives and plain ArrayBuffers only; they never throw into the isolate (a host Error carries a host
 * stack), and what they return is a fresh copy.
 */
import { hash, randomFillSync } from 'node:crypto';

/**
 * True only for a plain ArrayBuffer (which arguments of a Callback receive as a copy). A SharedArrayBuffer
 * would stay live, shared with the isolate, so a check on its contents could be raced: refused.
 */
export function isArrayBuffer(v: unknown): v is ArrayBuffer {
  return Object.prototype.toString.call(v) === '[object ArrayBuffer]';
}

/** A fresh, exactly-sized ArrayBuffer: never a view on Node's shared Buffer pool. */
export function freshArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

const URL_FIELDS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'] as const;

function urlFields(u: URL): string {
  const out: Record<string, string> = {};
  for (const f of URL_FIELDS) out[f] = u[f];
  return JSON.stringify(out);
}

const UTF8 = new TextEncoder();

const DIGESTS: Record<string, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

/**
 * The UTF-8 bytes of a text, in an ArrayBuffer of exactly their size. A text is first encoded straight into
 * a zeroed buffer of its length, which holds it when it is ASCII (every UTF-16 unit takes at least one byte,
 * so all of it was read only if each took one); otherwise Node's encoder, which measures the text first.
 * Measuring is what costs: for the 73 KB of JSON text the bench's transform hashes, 23–32 µs with the
 * encoder against 10–13 µs straight into the buffer (docs/performance-history.md, *Ninth pass*), while the isolate
 * waits. A non-ASCII text pays the first try as well, at most one more pass over it.
 */
export function utf8Bytes(text: string): ArrayBuffer {
  const out = new ArrayBuffer(text.length);
  if (UTF8.encodeInto(text, new Uint8Array(out)).read === text.length) return out;
  // Node's encoder gives a Uint8Array over an ArrayBuffer of its own, exactly its size: no second copy.
  const bytes = UTF8.encode(text);
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : freshArrayBuffer(bytes);
}

/** The synchronous helpers the bootstrap may call. Arguments are untrusted: primitives only. */
export function runSyncOp(op: unknown, a: unknown, b: unknown): string | ArrayBuffer {
  switch (op) {
    case 'url': {
      if (typeof a !== 'string' || typeof b !== 'string' || a.length > 65536 || b.length > 65536) return 'null';
      try {
        return urlFields(b === '' ? new URL(a) : new URL(a, b));
      } catch {
        return 'null';
      }
    }
    case 'urlSet': {
      if (typeof a !== 'string' || typeof b !== 'string' || a.length > 65536 || b.length > 65536) return 'null';
      try {
        const [field, value] = JSON.parse(b) as [string, string];
        const u = new URL(a);
        if (!(URL_FIELDS as readonly string[]).includes(field) || field === 'origin' || typeof value !== 'string') return 'null';
        (u as unknown as Record<string, string>)[field] = value;
        return urlFields(u);
      } catch {
        return 'null';
      }
    }
    case 'random': {
      const n = typeof a === 'number' && Number.isInteger(a) && a >= 0 && a <= 65536 ? a : 0;
      const out = new Uint8Array(n);
      randomFillSync(out);
      return out.buffer;
    }
    case 'digest': {
      const alg = typeof a === 'string' ? DIGESTS[a.toUpperCase()] : undefined;
      // Never throw into the isolate: a host Error carries a host stack.
      if (alg === undefined || !isArrayBuffer(b)) return '';
      return freshArrayBuffer(hash(alg, new Uint8Array(b), 'buffer'));
    }
    case 'utf8encode':
      return typeof a === 'string' ? utf8Bytes(a) : new ArrayBuffer(0);
    case 'utf8decode':
      return isArrayBuffer(a) ? Buffer.from(a).toString('utf8') : '';
    default:
      return '';
  }
}
