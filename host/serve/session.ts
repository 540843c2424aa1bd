/**
 * The session layer of the stdio connection, on both sides of the SDK's `serveStdio` entry.
 *
 * `SessionTransport` (between the bounded transport and serveStdio) keeps each `tools/call`'s arguments
 * exactly as the client sent them. The SDK parses each request with zod before the handler sees it, and
 * zod's copy drops an own `__proto__` key (assigning it sets the copy's prototype instead). The server
 * must validate what was received, or a strict schema (`additionalProperties: false`) accepts
 * `{"__proto__": {…}}`; so the raw arguments are kept here, by request id, for the handler to take.
 *
 * `guardLifecycle` (between serveStdio and a 2025-11-25 server instance) enforces that revision's lifecycle
 * ("Lifecycle"): before `initialize` only `ping` and `initialize` are served; any other request gets a
 * JSON-RPC error (-32600) and its handler never runs; a notification is dropped. A second `initialize` is
 * an error too (-32600): a session is initialized once. The 2026-07-28 revision has no handshake: serveStdio
 * and the SDK validate each of its requests' `_meta` envelope instead. The guard sits on the instance, not
 * on the wire, because only serveStdio knows which era the connection speaks (it pins it from the opening
 * messages; a `server/discover` probe followed by `initialize` is a 2025-11-25 connection).
 *
 * Threat: a client that skips the handshake, or re-initializes to renegotiate mid-session, and arguments
 * smuggled past the schema through a key the copy loses.
 */
import type { JSONRPCMessage, RequestId, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import { idKey } from './transport.ts';

/** JSON-RPC "Invalid Request": used for a request out of lifecycle order. */
export const LIFECYCLE_ERROR = -32600;

/** Raw arguments kept at most (far above the requests in flight the transport allows). */
export const MAX_KEPT_ARGUMENTS = 1024;

const ALLOWED_BEFORE_INITIALIZE: ReadonlySet<string> = new Set(['initialize', 'ping']);

export class SessionTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #inner: Transport;
  /** Raw tools/call arguments by request id, first in first out (a client may reuse an id). */
  readonly #arguments = new Map<string, unknown[]>();
  /** How many are kept, over all ids. */
  #kept = 0;

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
    return this.#take(idKey(id));
  }

  #take(key: string): unknown {
    const queue = this.#arguments.get(key);
    if (!queue) return undefined;
    const value = queue.shift();
    this.#kept--;
    if (queue.length === 0) this.#arguments.delete(key);
    return value;
  }

  /** Arguments kept and not yet taken (for tests and diagnostics). */
  get kept(): number {
    return this.#kept;
  }

  async start(): Promise<void> {
    this.#inner.onclose = () => {
      this.#arguments.clear();
      this.#kept = 0;
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
    if (m.method === 'tools/call' && m.id !== undefined) {
      const key = idKey(m.id);
      const queue = this.#arguments.get(key) ?? [];
      queue.push(m.params?.arguments);
      this.#arguments.set(key, queue);
      this.#kept++;
      // A bound whatever happens downstream: the oldest kept arguments go first.
      if (this.#kept > MAX_KEPT_ARGUMENTS) this.#take(this.#arguments.keys().next().value as string);
    }
    this.onmessage?.(message);
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    // A request answered with an error before its handler took its arguments (refused by the lifecycle,
    // by the SDK's envelope check…) never will: drop them, or refused calls would pile up here.
    const r = message as { id?: unknown; error?: unknown; method?: unknown };
    if (r.method === undefined && r.error !== undefined && (typeof r.id === 'string' || typeof r.id === 'number') && this.#arguments.has(idKey(r.id))) this.takeArguments(r.id);
    return this.#inner.send(message, options);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/**
 * Enforces the 2025-11-25 lifecycle on a server instance's transport: call it once the instance is
 * connected (its dispatcher is then the transport's `onmessage`).
 */
export function guardLifecycle(transport: Transport): void {
  const dispatch = transport.onmessage;
  if (!dispatch) return;
  let initialized = false;
  const refuse = (id: RequestId, message: string): void => {
    transport.send({ jsonrpc: '2.0', id, error: { code: LIFECYCLE_ERROR, message } }).catch((e: unknown) => transport.onerror?.(e instanceof Error ? e : new Error(String(e))));
  };
  transport.onmessage = (message, extra) => {
    const m = message as { id?: RequestId; method?: unknown };
    if (typeof m.method !== 'string') return dispatch(message, extra); // a response to one of our requests
    if (m.id === undefined) {
      // A notification before initialize has nothing to act on.
      if (initialized) dispatch(message, extra);
      return;
    }
    if (m.method === 'initialize') {
      if (initialized) return refuse(m.id, 'Invalid Request: the session is already initialized');
      initialized = true;
    } else if (!initialized && !ALLOWED_BEFORE_INITIALIZE.has(m.method)) {
      return refuse(m.id, `Invalid Request: "${m.method.slice(0, 64)}" before initialize (send initialize first)`);
    }
    dispatch(message, extra);
  };
}
