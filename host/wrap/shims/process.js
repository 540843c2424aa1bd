// @ts-check
/* global TextDecoder, console, queueMicrotask -- the sandbox's globals (types/tool-api.d.ts) */
/**
 * node:process for a wrapped server. `env` holds only what the wrap configuration gives (never the host's
 * environment), `argv` the configured arguments, `cwd()` a granted directory; `exit()` ends the server
 * (every later call fails), never the host; stdout/stderr writes go to the call's log.
 */
import { EventEmitter } from './events.js';
import { state } from './process-state.js';
import { unsupported } from './unsupported.js';

/** Thrown by exit() to stop the code that called it. */
export class ServerExit extends Error {
  /** @param {number} code */
  constructor(code) {
    super('the server called process.exit(' + code + ')');
    this.exitCode = code;
  }
}

/** @param {string} level */
function writer(level) {
  return {
    /** @param {unknown} chunk */
    write(chunk) {
      const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? new TextDecoder().decode(chunk) : String(chunk);
      const line = text.endsWith('\n') ? text.slice(0, -1) : text;
      if (line !== '') (level === 'error' ? console.error : console.info)(line);
      return true;
    },
    isTTY: false,
    on() { return this; },
    once() { return this; },
    end() {},
  };
}

class Process extends EventEmitter {
  get argv() { return state.argv; }
  get env() { return state.env; }
  cwd() { return state.cwd; }
  /** @param {number} [code] */
  exit(code) {
    state.exited = typeof code === 'number' ? code : 0;
    throw new ServerExit(state.exited);
  }
  /** @param {(...args: any[]) => void} fn @param {...unknown} args */
  nextTick(fn, ...args) { queueMicrotask(() => fn(...args)); }
  hrtime(/** @type {[number, number] | undefined} */ prev) {
    const ns = BigInt(Math.round(performanceNow() * 1e6));
    const now = [Number(ns / 1000000000n), Number(ns % 1000000000n)];
    if (!prev) return now;
    let s = now[0] - prev[0];
    let n = now[1] - prev[1];
    if (n < 0) { s -= 1; n += 1e9; }
    return [s, n];
  }
  uptime() { return performanceNow() / 1000; }
  memoryUsage() { return { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }; }
  /** @param {unknown} w */
  emitWarning(w) { console.warn(String(w)); }
  umask() { return 0o022; }
  getuid() { return 1000; }
  getgid() { return 1000; }
}
/** @type {any} */ (Process.prototype).hrtime.bigint = () => BigInt(Math.round(performanceNow() * 1e6));
const started = Date.now();
function performanceNow() { return Date.now() - started; }

const proc = /** @type {Process & Record<string, unknown>} */ (new Process());
Object.assign(proc, {
  platform: 'linux', arch: 'x64', version: 'v24.0.0', versions: { node: '24.0.0' }, pid: 1, ppid: 0,
  title: 'mcp-warden-server', release: { name: 'node' }, execArgv: [], execPath: '/mcp-warden/node', exitCode: undefined,
  stdout: writer('info'), stderr: writer('error'),
  stdin: { on() { return this; }, once() { return this; }, off() { return this; }, removeListener() { return this; }, resume() { return this; }, pause() { return this; }, isTTY: false },
  kill: unsupported('node:process.kill'), chdir: unsupported('node:process.chdir'), dlopen: unsupported('node:process.dlopen'), binding: unsupported('node:process.binding'),
});

export default proc;
export const argv = state.argv;
export const env = state.env;
export const platform = 'linux';
export const nextTick = proc.nextTick.bind(proc);
export const cwd = proc.cwd.bind(proc);
export const exit = proc.exit.bind(proc);
