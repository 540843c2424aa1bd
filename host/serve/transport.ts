/**
 * A stdio transport for the MCP server that survives hostile input. The SDK's StdioServerTransport closes
 * the connection when its read buffer passes its maximum and answers nothing to a line that is not JSON;
 * this one bounds each line, discards an oversized one up to its newline, and answers every unusable line
 * with the JSON-RPC error the spec names (-32700 parse error, -32600 invalid request), then keeps reading.
 *
 * Threat: the client (or whatever writes to our stdin) may send anything. No line can grow host memory past
 * `maxLineBytes`, and no line can stop the host from answering the next one. No flood of valid requests can
 * grow it either (back-pressure): at most `maxInFlight` requests are in flight (read but not yet answered
 * and written to stdout); at that bound the transport stops reading stdin (the unread rest waits in the
 * pipe, where the client's own writes block) and resumes when half of them have drained.
 */
import type { Readable, Writable } from 'node:stream';
import { isSpecType } from '@modelcontextprotocol/server';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import { DescriptorWriter } from '../../runtime/index.ts';

/** Default bound on one JSON-RPC line, bytes. */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;

export const INVALID_PARAMS = -32602;

/** Default bound on requests in flight: read from stdin, not yet answered and flushed to stdout. */
export const DEFAULT_MAX_IN_FLIGHT = 256;

/** A check of one request's shape (the SDK's spec type predicates, `isSpecType.CallToolRequest`, …). */
export type RequestSchemaLike = (value: unknown) => boolean;

export interface BoundedStdioOptions {
  readonly maxLineBytes?: number;
  /**
   * Request schemas by method. A request whose params do not match gets -32602 Invalid params here; the
   * SDK would otherwise report a schema failure as -32603 Internal error, with the validator's text.
   */
  readonly requestSchemas?: Readonly<Record<string, RequestSchemaLike>>;
  /** Requests in flight before the transport stops reading stdin (default 256). */
  readonly maxInFlight?: number;
  /** A message's line, newline included: `${JSON.stringify(message)}\n` by default; reply-json.ts's has the JSON of large texts made early in place. */
  readonly line?: (message: JSONRPCMessage) => string | Buffer;
}

type Id = string | number | null;

const ENVELOPE_KEYS: ReadonlySet<string> = new Set(['jsonrpc', 'id', 'method', 'params']);

/**
 * Whether `data` is a JSON-RPC 2.0 request envelope with nothing else: jsonrpc "2.0", a string or safe
 * integer id, a string method, params absent or an object, and no other own key (the spec's request schema
 * is strict). Together with a method's params schema this is the spec's request check, without its union.
 */
function isPlainRequestEnvelope(data: unknown): data is { id: string | number; method: string } {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
  const m = data as Record<string, unknown>;
  if (m.jsonrpc !== '2.0' || typeof m.method !== 'string' || !(typeof m.id === 'string' || Number.isSafeInteger(m.id))) return false;
  if (m.params !== undefined && (m.params === null || typeof m.params !== 'object' || Array.isArray(m.params))) return false;
  for (const k of Object.keys(m)) if (!ENVELOPE_KEYS.has(k)) return false;
  return true;
}

/** A map key for a request id that keeps 1 and "1" apart. */
export function idKey(id: string | number): string {
  return `${typeof id}:${id}`;
}

export class BoundedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #stdin: Readable;
  readonly #stdout: Writable;
  readonly #max: number;
  readonly #schemas: Readonly<Record<string, RequestSchemaLike>>;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #discarding = false;
  #started = false;
  #closed = false;
  readonly #maxInFlight: number;
  /** Requests dispatched and not yet answered, by id key (a count: a client may reuse an id). */
  readonly #open = new Map<string, number>();
  /** Requests in flight plus replies not yet flushed to stdout. */
  #outstanding = 0;
  /** Input read but not yet processed while reading is paused. */
  #held: Buffer | null = null;
  #feeding = false;
  /** Lines go to stdout's descriptor directly while the pipe takes them (runtime/io/descriptor-writer.ts). */
  readonly #out: DescriptorWriter;
  readonly #line: (message: JSONRPCMessage) => string | Buffer;

  constructor(stdin: Readable, stdout: Writable, options: BoundedStdioOptions = {}) {
    this.#stdin = stdin;
    this.#stdout = stdout;
    this.#out = new DescriptorWriter(stdout);
    this.#max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#schemas = options.requestSchemas ?? {};
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    this.#line = options.line ?? ((m) => `${JSON.stringify(m)}\n`);
  }

  readonly #onData = (chunk: Buffer | string): void => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    // Paused: a chunk the stream had already taken waits behind the held input.
    if (this.#held !== null) this.#held = Buffer.concat([this.#held, buf]);
    else this.#feed(buf);
  };

  /** Requests in flight plus replies not yet written (for tests and diagnostics). */
  get outstanding(): number {
    return this.#outstanding;
  }

  #feed(input: Buffer): void {
    this.#feeding = true;
    try {
      this.#feedLines(input);
    } finally {
      this.#feeding = false;
    }
  }

  #feedLines(input: Buffer): void {
    let buf = input;
    while (buf.length > 0) {
      if (this.#outstanding >= this.#maxInFlight && !this.#closed) {
        // Back-pressure: keep the rest and stop reading until answers drain (#settle).
        this.#held = buf;
        this.#stdin.pause();
        return;
      }
      const nl = buf.indexOf(0x0a);
      if (nl < 0) {
        if (!this.#discarding) {
          if (this.#pendingBytes + buf.length > this.#max) this.#startDiscarding();
          else {
            this.#pending.push(buf);
            this.#pendingBytes += buf.length;
          }
        }
        return;
      }
      const head = buf.subarray(0, nl);
      buf = buf.subarray(nl + 1);
      if (this.#discarding) {
        this.#discarding = false;
        this.#reply(null, INVALID_REQUEST, `Message too large (limit ${this.#max} bytes)`);
        continue;
      }
      if (this.#pendingBytes + head.length > this.#max) {
        this.#pending = [];
        this.#pendingBytes = 0;
        this.#reply(null, INVALID_REQUEST, `Message too large (limit ${this.#max} bytes)`);
        continue;
      }
      const line = this.#pending.length === 0 ? head : Buffer.concat([...this.#pending, head]);
      this.#pending = [];
      this.#pendingBytes = 0;
      this.#handleLine(line);
    }
  }

  /** One request answered or one reply flushed: resume reading once half the bound has drained. */
  #settle(): void {
    this.#outstanding = Math.max(0, this.#outstanding - 1);
    if (this.#held === null || this.#feeding || this.#closed || this.#outstanding > this.#maxInFlight / 2) return;
    const rest = this.#held;
    this.#held = null;
    this.#feed(rest);
    if (this.#held === null && !this.#closed) this.#stdin.resume();
  }

  readonly #onEnd = (): void => {
    void this.close();
  };

  readonly #onError = (error: Error): void => {
    this.onerror?.(error);
  };

  #startDiscarding(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#discarding = true;
  }

  #handleLine(line: Buffer): void {
    try {
      this.#parseLine(line);
    } catch (e) {
      // e.g. a stack overflow on absurdly deep nesting: answered as an invalid request, never fatal.
      this.onerror?.(e instanceof Error ? e : new Error(String(e)));
      this.#reply(null, INVALID_REQUEST, 'Invalid Request');
    }
  }

  #parseLine(line: Buffer): void {
    const text = line.at(-1) === 0x0d ? line.toString('utf8', 0, line.length - 1) : line.toString('utf8');
    if (text.trim() === '') return;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      this.#reply(null, PARSE_ERROR, 'Parse error');
      return;
    }
    // A request to a method with a schema, in the plain envelope (the common case): its params schema alone
    // decides. That envelope with params the method's schema accepts is always a valid JSON-RPC request, so
    // the union check of every message kind (a zod parse per request, which the SDK repeats) is skipped; on
    // any failure the full check below picks the same error it always did.
    const schema = isPlainRequestEnvelope(data) && Object.hasOwn(this.#schemas, data.method) ? this.#schemas[data.method] : undefined;
    if (schema !== undefined && schema(data)) {
      this.#dispatch(data);
      return;
    }
    if (!isSpecType.JSONRPCMessage(data)) {
      const obj = data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : null;
      // A malformed response from the client gets no reply: answering it could start an error ping-pong.
      if (obj && !('method' in obj) && ('result' in obj || 'error' in obj)) {
        this.onerror?.(new Error('invalid JSON-RPC response from the client'));
        return;
      }
      const id = obj && (typeof obj.id === 'string' || (typeof obj.id === 'number' && Number.isFinite(obj.id))) ? obj.id : null;
      this.#reply(id, INVALID_REQUEST, Array.isArray(data) ? 'Invalid Request: batches are not supported' : 'Invalid Request');
      return;
    }
    const msg = data as { id?: string | number; method?: string };
    if (msg.id !== undefined && typeof msg.method === 'string' && Object.hasOwn(this.#schemas, msg.method)) {
      if (!(this.#schemas[msg.method] as RequestSchemaLike)(data)) {
        this.#reply(msg.id, INVALID_PARAMS, `Invalid params for ${msg.method}`);
        return;
      }
    }
    this.#dispatch(data);
  }

  /** Hands a valid message to the server, counting a request as in flight. */
  #dispatch(data: unknown): void {
    const msg = data as { id?: string | number; method?: string; params?: { requestId?: unknown } };
    if (msg.id !== undefined && typeof msg.method === 'string') {
      const key = idKey(msg.id);
      this.#open.set(key, (this.#open.get(key) ?? 0) + 1);
      this.#outstanding++;
    } else if (msg.method === 'notifications/cancelled') {
      // The SDK sends no answer to a request it cancelled: it is no longer in flight.
      const id = msg.params?.requestId;
      if (typeof id === 'string' || typeof id === 'number') this.#answered(idKey(id), true);
    }
    try {
      // The message as received (not zod's copy, which drops an own "__proto__" key): the SDK re-parses
      // what it uses, and the server validates tool arguments as the client sent them.
      this.onmessage?.(data as JSONRPCMessage);
    } catch (e) {
      this.onerror?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Marks one request with this id key answered; true when it was in flight. `now`: settle at once. */
  #answered(key: string, now: boolean): boolean {
    const n = this.#open.get(key);
    if (n === undefined) return false;
    if (n <= 1) this.#open.delete(key);
    else this.#open.set(key, n - 1);
    if (now) this.#settle();
    return true;
  }

  #reply(id: Id, code: number, message: string): void {
    // The transport's own replies count as in flight until written: a flood of bad lines is paced too.
    this.#outstanding++;
    this.#write(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`, true).catch(() => {});
  }

  /**
   * Writes one line; `settles`: it ends something counted in #outstanding once flushed to stdout. The line
   * goes to stdout's descriptor with one `write(2)`, as the frames to the workers do; the stream takes what
   * the pipe did not (a full pipe) and every line after it until it has drained, so lines never reorder
   * (runtime/io/descriptor-writer.ts).
   */
  #write(text: string | Buffer, settles: boolean): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      try {
        // Not flushed at once: settled when this line is (the callback), with no 'drain' listener per line.
        const how = this.#out.write(text, () => {
          if (settles) this.#settle();
          if (how === 'full') resolve();
        });
        if (how === 'written' && settles) this.#settle();
        if (how !== 'full') resolve();
      } catch (e) {
        if (settles) this.#settle();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('BoundedStdioTransport already started');
    this.#started = true;
    this.#stdin.on('data', this.#onData);
    this.#stdin.on('end', this.#onEnd);
    this.#stdin.on('error', this.#onError);
    // A client that went away (EPIPE) ends the session; it must not crash the process.
    this.#stdout.on('error', this.#onStdoutError);
  }

  readonly #onStdoutError = (error: Error): void => {
    this.onerror?.(error);
    void this.close();
  };

  send(message: JSONRPCMessage): Promise<void> {
    const m = message as { id?: unknown; method?: unknown };
    const isResponse = m.method === undefined && (typeof m.id === 'string' || typeof m.id === 'number');
    const settles = isResponse && this.#answered(idKey(m.id as string | number), false);
    return this.#write(this.#line(message), settles);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stdin.off('data', this.#onData);
    this.#stdin.off('end', this.#onEnd);
    this.#stdin.off('error', this.#onError);
    this.#stdin.pause();
    this.#pending = [];
    this.#held = null;
    this.#open.clear();
    this.onclose?.();
  }
}
