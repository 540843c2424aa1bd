/**
 * A stdio transport for the MCP server that survives hostile input. The SDK's StdioServerTransport closes
 * the connection when its read buffer passes its maximum and answers nothing to a line that is not JSON;
 * this one bounds each line, discards an oversized one up to its newline, and answers every unusable line
 * with the JSON-RPC error the spec names (-32700 parse error, -32600 invalid request), then keeps reading.
 *
 * Threat: the client (or whatever writes to our stdin) may send anything. No line can grow host memory past
 * `maxLineBytes`, and no line can stop the host from answering the next one.
 */
import type { Readable, Writable } from 'node:stream';
import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/** Default bound on one JSON-RPC line, bytes. */
export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;

export const INVALID_PARAMS = -32602;

/** Anything with a zod-style safeParse (the SDK's request schemas). */
export interface RequestSchemaLike {
  safeParse(value: unknown): { success: boolean };
}

export interface BoundedStdioOptions {
  readonly maxLineBytes?: number;
  /**
   * Request schemas by method. A request whose params do not match gets -32602 Invalid params here; the
   * SDK would otherwise report a schema failure as -32603 Internal error, with the validator's text.
   */
  readonly requestSchemas?: Readonly<Record<string, RequestSchemaLike>>;
}

type Id = string | number | null;

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

  constructor(stdin: Readable, stdout: Writable, options: BoundedStdioOptions = {}) {
    this.#stdin = stdin;
    this.#stdout = stdout;
    this.#max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#schemas = options.requestSchemas ?? {};
  }

  readonly #onData = (chunk: Buffer | string): void => {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    while (buf.length > 0) {
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
  };

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
    const text = line.toString('utf8').replace(/\r$/, '');
    if (text.trim() === '') return;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      this.#reply(null, PARSE_ERROR, 'Parse error');
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(data);
    if (!parsed.success) {
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
    const msg = parsed.data as { id?: string | number; method?: string };
    if (msg.id !== undefined && typeof msg.method === 'string' && Object.hasOwn(this.#schemas, msg.method)) {
      if (!(this.#schemas[msg.method] as RequestSchemaLike).safeParse(parsed.data).success) {
        this.#reply(msg.id, INVALID_PARAMS, `Invalid params for ${msg.method}`);
        return;
      }
    }
    try {
      this.onmessage?.(parsed.data);
    } catch (e) {
      this.onerror?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  #reply(id: Id, code: number, message: string): void {
    this.#write(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`).catch(() => {});
  }

  #write(text: string): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      try {
        if (this.#stdout.write(text)) resolve();
        else this.#stdout.once('drain', resolve);
      } catch (e) {
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
    return this.#write(`${JSON.stringify(message)}\n`);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stdin.off('data', this.#onData);
    this.#stdin.off('end', this.#onEnd);
    this.#stdin.off('error', this.#onError);
    this.#stdin.pause();
    this.#pending = [];
    this.onclose?.();
  }
}
