// @ts-check
/**
 * The MCP SDK's `server/stdio.js` for a wrapped server: `StdioServerTransport` is replaced by a transport
 * bridged to the host through hub.js (JSON-RPC messages as copied strings; nothing else crosses).
 */
import { attach } from './hub.js';

export class StdioServerTransport {
  constructor() {
    /** @type {((message: unknown) => void) | undefined} */
    this.onmessage = undefined;
    /** @type {(() => void) | undefined} */
    this.onclose = undefined;
    /** @type {((error: Error) => void) | undefined} */
    this.onerror = undefined;
    /** @type {string | undefined} */
    this.sessionId = undefined;
  }
  async start() { attach(this); }
  /** @param {unknown} message */
  async send(message) { deliverToHub(message); }
  async close() { if (this.onclose) this.onclose(); }
}

/** @type {(message: unknown) => void} */
let deliverToHub = () => {};
/** @param {(message: unknown) => void} fn */
export function setSink(fn) { deliverToHub = fn; }
export default { StdioServerTransport };
