// @ts-check
/* global console, warden -- the sandbox's globals (types/tool-api.d.ts) */
/**
 * The in-isolate side of a wrapped MCP server: the module's `mcpServer` export (the runtime's entry kind
 * "rpc", runtime/entry-name.ts). The host sends one JSON-RPC message per call as JSON text; the first call
 * starts the server (the process facts from the wrap configuration, the server's own module, its
 * `connect(new StdioServerTransport())`, then the MCP handshake), later calls find it warm: one server per
 * isolate, its state as long as the isolate lives. The answer goes back as JSON text.
 *
 * The server's own requests to the client (sampling, roots, elicitation) are answered with an error: the
 * wrapped server is told the client has no capabilities. Its notifications (log messages) go to the call's log.
 */
import { setSink } from './sdk-stdio.js';
import { state } from './process-state.js';
import { ServerExit } from './process.js';
import { unsupportedState } from './unsupported.js';

/** @typedef {{ onmessage?: (m: unknown) => void, onclose?: () => void }} Transport */
/** @typedef {{ argv: string[], env: Record<string, string>, cwd: string, packageJson: { name: string, version: string } }} ServerConfig */

/** @type {Transport | null} */
let transport = null;
/** @type {((t: Transport) => void) | null} */
let attached = null;
/** @type {Map<string, (m: Record<string, unknown>) => void>} */
const waiting = new Map();
let seq = 0;

/** @param {Transport} t */
export function attach(t) {
  transport = t;
  if (attached) attached(t);
}

setSink((m) => {
  const msg = /** @type {Record<string, unknown>} */ (m);
  if (msg === null || typeof msg !== 'object') return;
  const id = msg.id;
  if (typeof id === 'string' && ('result' in msg || 'error' in msg)) {
    const w = waiting.get(id);
    if (w) { waiting.delete(id); w(msg); }
    return;
  }
  if (typeof msg.method === 'string') {
    if (id !== undefined && transport?.onmessage) {
      transport.onmessage({ jsonrpc: '2.0', id, error: { code: -32601, message: 'the mcp-warden host does not serve ' + msg.method + ' to a wrapped server' } });
      return;
    }
    if (msg.method === 'notifications/message') {
      const params = /** @type {{ level?: string, data?: unknown }} */ (msg.params ?? {});
      const data = typeof params.data === 'string' ? params.data : JSON.stringify(params.data);
      console.info('[' + String(params.level ?? 'info') + '] ' + data);
    }
  }
});

/** Substitutes ${slot} with the granted path of that slot. @param {string} s @param {Readonly<Record<string, string>>} paths */
function expand(s, paths) {
  return s.replace(/\$\{([A-Za-z0-9_-]+)\}/g, (_m, slot) => {
    const p = paths[slot];
    if (p === undefined) throw new Error('no directory is bound to the "' + slot + '" slot (serve --grant ' + slot + '=DIR)');
    return p;
  });
}

/** @param {Record<string, unknown>} msg @returns {Promise<Record<string, unknown>>} */
function request(msg) {
  const t = transport;
  if (t === null || !t.onmessage) return Promise.reject(new Error('the server is not connected'));
  const id = 'w' + ++seq;
  return new Promise((resolve) => {
    waiting.set(id, resolve);
    /** @type {(m: unknown) => void} */ (t.onmessage)({ ...msg, id });
  });
}

/**
 * The entry the host calls.
 * @param {() => Promise<unknown>} load imports the server's main module (which connects its transport)
 * @param {ServerConfig} config
 */
export function serve(load, config) {
  /** @type {Promise<void> | null} */
  let starting = null;

  async function start() {
    const paths = warden.paths;
    state.argv.splice(0, state.argv.length, 'node', '/server', ...config.argv.map((a) => expand(a, paths)));
    for (const [k, v] of Object.entries(config.env)) state.env[k] = expand(v, paths);
    state.cwd = config.cwd === '' ? '/' : expand(config.cwd, paths);
    state.packageJson = config.packageJson;
    const connected = new Promise((resolve) => { attached = resolve; if (transport) resolve(transport); });
    await Promise.race([load().then(() => connected), connected]);
    const init = await request({ jsonrpc: '2.0', method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mcp-warden', version: '1' } } });
    if (init.error) throw new Error('the server refused initialize: ' + JSON.stringify(init.error));
    transport?.onmessage?.({ jsonrpc: '2.0', method: 'notifications/initialized' });
  }

  async function ready() {
    if (state.exited !== null) throw new Error('the server exited with code ' + state.exited);
    if (starting === null) starting = start();
    try { await starting; } catch (e) {
      starting = null;
      if (e instanceof ServerExit || state.exited !== null) throw new Error('the server exited with code ' + state.exited + ' while starting');
      throw e;
    }
  }

  return {
    /**
     * A request of the host's own (a prompt handler's prompts/get): its result object, or the server's
     * error (or an UNSUPPORTED_API hit) thrown.
     * @param {string} method @param {Record<string, unknown>} params @returns {Promise<unknown>}
     */
    async call(method, params) {
      await ready();
      unsupportedState.hit = null;
      const answer = await request({ jsonrpc: '2.0', method, params });
      if (unsupportedState.hit !== null) {
        const api = unsupportedState.hit;
        unsupportedState.hit = null;
        throw new Error('UNSUPPORTED_API: ' + api + ' is not available in the mcp-warden sandbox');
      }
      const error = /** @type {{ message?: unknown } | undefined} */ (answer.error);
      if (error !== undefined) throw new Error(typeof error.message === 'string' ? error.message : 'the server reported an error');
      return answer.result;
    },
    /**
     * A resource handler's read (the host's resources/read of one of the server's URIs, forwarded): the
     * server's contents as the handler contents the host checks ({ text | blob, mimeType }).
     * @param {{ uri?: unknown }} input @returns {Promise<unknown>}
     */
    async readResource(input) {
      const result = /** @type {{ contents?: unknown } | null} */ (await this.call('resources/read', { uri: String(input?.uri) }));
      const contents = Array.isArray(result?.contents) ? result.contents : [];
      return contents.map((/** @type {Record<string, unknown>} */ c) => {
        const out = /** @type {Record<string, unknown>} */ ({});
        if (typeof c.text === 'string') out.text = c.text;
        else if (typeof c.blob === 'string') out.blob = c.blob;
        if (typeof c.mimeType === 'string') out.mimeType = c.mimeType;
        return out;
      });
    },
    /** @param {string} json one JSON-RPC request or notification @returns {Promise<string>} the answer, JSON text */
    async message(json) {
      await ready();
      const msg = JSON.parse(json);
      unsupportedState.hit = null;
      if (msg === null || typeof msg !== 'object' || msg.id === undefined) {
        transport?.onmessage?.(msg);
        return 'null';
      }
      const answer = await request(msg);
      if (unsupportedState.hit !== null) {
        const api = unsupportedState.hit;
        unsupportedState.hit = null;
        return JSON.stringify({ jsonrpc: '2.0', id: msg.id, error: { code: -32603, message: 'UNSUPPORTED_API: ' + api + ' is not available in the mcp-warden sandbox', data: { code: 'UNSUPPORTED_API', api } } });
      }
      return JSON.stringify({ ...answer, id: msg.id });
    },
  };
}
