/**
 * The session layer between the bounded transport and the SDK's `serveStdio` entry: it enforces the MCP
 * lifecycle of the 2025-11-25 revision and keeps each `tools/call`'s arguments exactly as the client sent
 * them, on a connection that may speak either revision.
 *
 * Eras (docs/specification/2026-07-28/basic/versioning): a request whose `_meta` carries the reserved
 * protocol-version key (`io.modelcontextprotocol/protocolVersion`) is 2026-07-28 ("modern") traffic: there
 * is no handshake, and the SDK validates each request's envelope (version, client capabilities) itself.
 * Anything else is 2025-11-25 ("legacy") traffic, which needs the `initialize` handshake first.
 *
 * Lifecycle (2025-11-25, "Lifecycle"): before `initialize` only `ping` and `initialize` are served; any other
 * legacy request gets a JSON-RPC error (-32600) and its handler never runs; a legacy notification is dropped.
 * A second `initialize` is an error too (-32600): a session is initialized once. Refused messages never
 * reach the SDK, so they cannot pin the connection to an era either.
 *
 * Arguments: the SDK parses each request with zod before the handler sees it, and zod's copy drops an own
 * `__proto__` key (assigning it sets the copy's prototype instead). The server must validate what was
 * received, or a strict schema (`additionalProperties: false`) accepts `{"__proto__": {…}}`; so the raw
 * arguments are kept here, by request id, for the handler to take.
 *
 * Threat: a client that skips the handshake, or re-initializes to renegotiate mid-session, and arguments
 * smuggled past the schema through a key the copy loses.
 */
import { PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import type { JSONRPCMessage, RequestId, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import { idKey } from './transport.ts';

/** JSON-RPC "Invalid Request": used for a request out of lifecycle order. */
export const LIFECYCLE_ERROR = -32600;

const ALLOWED_BEFORE_INITIALIZE: ReadonlySet<string> = new Set(['initialize', 'ping']);

export class SessionTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #inner: Transport;
  #initialized = false;
  /** A legacy (2025-11-25) request or notification has been passed on: the connection speaks that era. */
  #legacy = false;
  /** Raw tools/call arguments by request id, first in first out (a client may reuse an id). */
  readonly #arguments = new Map<string, unknown[]>();

  /** Settles when the connection has closed (stdin ended, stdout failed, or close()). */
  readonly closed: Promise<void>;
  #resolveClosed!: () => void;

  constructor(inner: Transport) {
    this.#inner = inner;
    this.closed = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  get sessionId(): string | undefined {
    return this.#inner.sessionId;
  }

  /** The arguments of tools/call request `id` as received (undefined when it had none); each is taken once. */
  takeArguments(id: RequestId): unknown {
    const key = idKey(id);
    const queue = this.#arguments.get(key);
    if (!queue) return undefined;
    const value = queue.shift();
    if (queue.length === 0) this.#arguments.delete(key);
    return value;
  }

  async start(): Promise<void> {
    this.#inner.onclose = () => {
      this.#arguments.clear();
      try {
        this.onclose?.();
      } finally {
        this.#resolveClosed();
      }
    };
    this.#inner.onerror = (e) => this.onerror?.(e);
    this.#inner.onmessage = (m) => this.#receive(m);
    await this.#inner.start();
  }

  #receive(message: JSONRPCMessage): void {
    const m = message as { id?: RequestId; method?: unknown; params?: { arguments?: unknown } };
    if (typeof m.method !== 'string') {
      this.onmessage?.(message); // a response to one of our requests
      return;
    }
    // Modern traffic needs no handshake: the SDK validates its per-request envelope. Once the connection
    // speaks the legacy era, every request follows the legacy lifecycle.
    const modern = !this.#legacy && hasModernClaim(m.params);
    if (m.id === undefined) {
      // A legacy notification before initialize has nothing to act on.
      if (modern || this.#initialized) this.onmessage?.(message);
      return;
    }
    if (!modern) {
      if (m.method === 'initialize') {
        if (this.#initialized) return this.#refuse(m.id, 'Invalid Request: the session is already initialized');
        this.#initialized = true;
      } else if (!this.#initialized && !ALLOWED_BEFORE_INITIALIZE.has(m.method)) {
        return this.#refuse(m.id, `Invalid Request: "${m.method.slice(0, 64)}" before initialize (send initialize first, or server/discover with the 2026-07-28 _meta)`);
      }
      this.#legacy = true;
    }
    if (m.method === 'tools/call') {
      const key = idKey(m.id);
      const queue = this.#arguments.get(key) ?? [];
      queue.push(m.params?.arguments);
      this.#arguments.set(key, queue);
    }
    this.onmessage?.(message);
  }

  #refuse(id: RequestId, message: string): void {
    this.#inner.send({ jsonrpc: '2.0', id, error: { code: LIFECYCLE_ERROR, message } }).catch((e: unknown) => this.onerror?.(e instanceof Error ? e : new Error(String(e))));
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.#inner.send(message, options);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** Whether params carry the 2026-07-28 envelope claim (the reserved protocol-version `_meta` key). */
export function hasModernClaim(params: unknown): boolean {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return false;
  const meta = (params as { _meta?: unknown })._meta;
  return meta !== null && typeof meta === 'object' && !Array.isArray(meta) && Object.hasOwn(meta, PROTOCOL_VERSION_META_KEY);
}
