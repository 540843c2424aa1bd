/**
 * A small Streamable HTTP front for the stdio host, for clients that speak HTTP only (the official MCP
 * conformance suite). Test infrastructure, not product: mcp-warden serves stdio only.
 *
 * Follows the Streamable HTTP transport of the 2025-11-25 specification (basic/transports):
 * - one endpoint, `/mcp`, on 127.0.0.1; the Host and Origin headers must name a loopback host (403);
 * - POST carries one JSON-RPC message (no batches). An `initialize` request without `Mcp-Session-Id` starts
 *   a session: the real host is spawned over stdio for it and the session id is sent in `Mcp-Session-Id`.
 *   Any other POST needs a known session (400 without the header, 404 for an unknown or ended one) and, if
 *   it sends `MCP-Protocol-Version`, the version negotiated at initialize (400 otherwise);
 * - a notification or response is written to the host's stdin and answered 202;
 * - a request is written to the host's stdin and answered with `application/json` when the host's first
 *   message for it is its response, or with `text/event-stream` when notifications (progress, logging)
 *   come first: they are sent as SSE events, then the response, then the stream ends;
 * - GET: 405 (no stream for unsolicited messages; no scenario needs one); DELETE ends the session (the host
 *   is stopped).
 * - a request of the host to the client (elicitation/create, sampling/createMessage, roots/list: the SDK's
 *   2025-11-25 shim for a tool's input-required result) travels as an SSE event on the stream of the request
 *   in flight; the client POSTs its response, which is written to the host's stdin and answered 202.
 * Which request a host notification or request belongs to: progress by its token; anything else goes to the
 * one request in flight (the oldest when several are), and is dropped when none is (stdio carries no relation).
 * No resumability (no event ids, no priming events): the spec makes both optional.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';

export interface HttpShimOptions {
  /** The host's command line after the node executable (e.g. `[CLI, 'serve', '--home', H, '--dev', DIR]`). */
  readonly hostArgs: readonly string[];
  readonly cwd?: string;
  readonly env?: Record<string, string>;
}

export interface HttpShim {
  /** The MCP endpoint, `http://127.0.0.1:PORT/mcp`. */
  readonly url: string;
  /** Sessions started so far (each one a host process). */
  sessionsStarted(): number;
  /** The end of what the hosts wrote to stderr (for failure messages). */
  stderr(): string;
  /** Stops listening, ends every session and waits for every host to exit. */
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

interface Pending {
  readonly res: ServerResponse;
  readonly method: string;
  readonly token: string | undefined;
  sse: boolean;
}

interface Session {
  readonly id: string;
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<void>;
  /** Requests in flight, by JSON id (`JSON.stringify(id)`, so 1 and "1" differ). */
  readonly pending: Map<string, Pending>;
  protocolVersion: string | undefined;
  ended: boolean;
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;
const STDERR_TAIL = 64 * 1024;
/** Backstop only (a host that ignores both the end of its stdin and SIGTERM): never how a test decides. */
const KILL_AFTER_MS = 30_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function hostnameOf(hostHeader: string): string {
  return hostHeader.startsWith('[') ? hostHeader.slice(0, hostHeader.indexOf(']') + 1) : (hostHeader.split(':')[0] ?? '');
}

function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return LOOPBACK.has(url.hostname);
  } catch {
    return false;
  }
}

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** An HTTP error carrying a JSON-RPC error; on a stream already started, only its end. */
function jsonRpcError(res: ServerResponse, status: number, code: number, message: string, id: unknown = null): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } }));
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startHttpShim(options: HttpShimOptions): Promise<HttpShim> {
  const sessions = new Map<string, Session>();
  const all: Session[] = [];
  let stderrTail = '';
  let closing = false;

  const endSession = (s: Session): void => {
    if (s.ended) return;
    s.ended = true;
    sessions.delete(s.id);
    for (const [key, p] of s.pending) {
      s.pending.delete(key);
      jsonRpcError(p.res, 500, -32603, 'the session ended before the host answered', JSON.parse(key));
    }
    s.child.stdin.end();
    if (s.child.exitCode === null && s.child.signalCode === null) {
      s.child.kill('SIGTERM');
      const backstop = setTimeout(() => s.child.kill('SIGKILL'), KILL_AFTER_MS);
      backstop.unref();
      s.child.once('close', () => clearTimeout(backstop));
    }
  };

  /** Sends one message of the host to the client, as the answer to `p` or as an event on its stream. */
  const deliver = (s: Session, p: Pending, message: Json, final: boolean): void => {
    const { res } = p;
    if (res.destroyed || res.writableEnded) return; // the client went away: disconnection is not cancellation
    const text = JSON.stringify(message);
    if (final && !p.sse) {
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': s.id });
      res.end(text);
      return;
    }
    if (!p.sse) {
      p.sse = true;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'mcp-session-id': s.id });
    }
    res.write(`event: message\ndata: ${text}\n\n`);
    if (final) res.end();
  };

  const fromHost = (s: Session, line: string): void => {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      stderrTail = `${stderrTail}[shim] host wrote a line that is not JSON: ${line.slice(0, 200)}\n`.slice(-STDERR_TAIL);
      return;
    }
    if (!isObject(message)) return;
    const isResponse = message.method === undefined && message.id !== undefined;
    if (isResponse) {
      const key = JSON.stringify(message.id);
      const p = s.pending.get(key);
      if (!p) return;
      s.pending.delete(key);
      const result = message.result;
      if (isObject(result)) {
        if (p.method === 'initialize' && typeof result.protocolVersion === 'string') s.protocolVersion = result.protocolVersion;
      }
      deliver(s, p, message, true);
      return;
    }
    // A notification (or a request of the host): progress goes with its token, the rest with the request in flight.
    let target: Pending | undefined;
    const params = message.params;
    if (message.method === 'notifications/progress' && isObject(params)) {
      const token = JSON.stringify(params.progressToken);
      target = [...s.pending.values()].find((p) => p.token === token);
    } else {
      target = s.pending.values().next().value;
    }
    if (target) deliver(s, target, message, false);
  };

  const startSession = (): Session => {
    const child = spawn(process.execPath, [...options.hostArgs], { cwd: options.cwd, env: options.env, stdio: 'pipe' });
    const exited = new Promise<void>((resolve) => {
      // 'close' (not 'exit'): after the last line of its stdout was read.
      child.on('close', () => resolve());
      child.on('error', () => resolve()); // could not be spawned: no close event follows
    });
    const s: Session = { id: randomUUID(), child, exited, pending: new Map(), protocolVersion: undefined, ended: false };
    child.stdin.on('error', () => {}); // a host that exited: its exit ends the session
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (t: string) => {
      stderrTail = (stderrTail + t).slice(-STDERR_TAIL);
    });
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => fromHost(s, line));
    child.on('close', () => endSession(s));
    child.on('error', () => endSession(s));
    sessions.set(s.id, s);
    all.push(s);
    return s;
  };

  const post = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const type = req.headers['content-type'] ?? '';
    if (!type.toLowerCase().includes('application/json')) return jsonRpcError(res, 415, -32000, 'Content-Type must be application/json');
    const accept = (req.headers.accept ?? '').toLowerCase();
    if (!accept.includes('application/json') || !accept.includes('text/event-stream')) return jsonRpcError(res, 406, -32000, 'Accept must list application/json and text/event-stream');
    const body = await readBody(req);
    if (body === null) return jsonRpcError(res, 413, -32600, `the body exceeds ${MAX_BODY_BYTES} bytes`);
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch {
      return jsonRpcError(res, 400, -32700, 'Parse error');
    }
    if (!isObject(message) || message.jsonrpc !== '2.0') return jsonRpcError(res, 400, -32600, 'one JSON-RPC 2.0 message per POST (no batches)');
    const isRequest = typeof message.method === 'string' && message.id !== undefined;
    const sid = req.headers['mcp-session-id'];
    let s: Session | undefined;
    if (isRequest && message.method === 'initialize') {
      if (sid !== undefined) return jsonRpcError(res, 400, -32600, 'initialize starts a session: it must not carry Mcp-Session-Id', message.id ?? null);
      if (closing) return jsonRpcError(res, 503, -32603, 'the shim is closing', message.id ?? null);
      s = startSession();
    } else {
      if (typeof sid !== 'string') return jsonRpcError(res, 400, -32600, 'Mcp-Session-Id required (initialize first)', message.id ?? null);
      s = sessions.get(sid);
      if (!s) return jsonRpcError(res, 404, -32001, 'Session not found', message.id ?? null);
      const version = req.headers['mcp-protocol-version'];
      if (version !== undefined && s.protocolVersion !== undefined && version !== s.protocolVersion) {
        return jsonRpcError(res, 400, -32600, `unsupported MCP-Protocol-Version: ${String(version).slice(0, 40)}`, message.id ?? null);
      }
    }
    const line = body.replace(/[\r\n]+/g, ' '); // a raw line break in valid JSON is whitespace between tokens
    if (isRequest) {
      const key = JSON.stringify(message.id);
      if (s.pending.has(key)) return jsonRpcError(res, 400, -32600, 'a request with this id is in flight', message.id);
      const params = message.params;
      const token = isObject(params) && isObject(params._meta) && params._meta.progressToken !== undefined ? JSON.stringify(params._meta.progressToken) : undefined;
      // If the client goes away first, the entry stays until the host answers: disconnection is not cancellation.
      s.pending.set(key, { res, method: message.method as string, token, sse: false });
      s.child.stdin.write(`${line}\n`);
      return;
    }
    s.child.stdin.write(`${line}\n`);
    res.writeHead(202, { 'mcp-session-id': s.id });
    res.end();
  };

  const server = createServer((req, res) => {
    const host = req.headers.host ?? '';
    const origin = req.headers.origin;
    if (!LOOPBACK.has(hostnameOf(host)) || (origin !== undefined && !isLoopbackOrigin(origin))) {
      return jsonRpcError(res, 403, -32000, 'Forbidden: Host and Origin must be a loopback address');
    }
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/mcp') return jsonRpcError(res, 404, -32000, 'Not found: the MCP endpoint is /mcp');
    if (req.method === 'POST') {
      post(req, res).catch((e: unknown) => jsonRpcError(res, 500, -32603, `shim fault: ${String(e).slice(0, 200)}`));
      return;
    }
    if (req.method === 'DELETE') {
      const sid = req.headers['mcp-session-id'];
      if (typeof sid !== 'string') return jsonRpcError(res, 400, -32600, 'Mcp-Session-Id required');
      const s = sessions.get(sid);
      if (!s) return jsonRpcError(res, 404, -32001, 'Session not found');
      endSession(s);
      res.writeHead(200);
      res.end();
      return;
    }
    // GET (a stream for unsolicited messages) is not offered; other methods are not part of the transport.
    res.writeHead(405, { allow: 'POST, DELETE' });
    res.end();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/mcp`,
    sessionsStarted: () => all.length,
    stderr: () => stderrTail,
    close: async () => {
      closing = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of all) endSession(s);
      await Promise.all(all.map((s) => s.exited));
      await stopped;
    },
  };
}
