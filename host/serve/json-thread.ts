/**
 * One thread of the host's own (node:worker_threads, json-thread-main.ts) that turns a large text into the
 * UTF-8 bytes of its JSON string form, so that the main thread can do something else meanwhile: DLP's scan
 * of that same text (reply-json.ts). It runs no package code and reads nothing: it gets a string and gives
 * bytes back.
 *
 * It takes one text at a time. While it is starting (the first large result starts it, ~20–30 ms), busy
 * with another text, or after it failed, `jsonBytes` answers undefined at once and the caller serializes
 * on its own thread as before: a reply never waits for the thread to start or to finish someone else's.
 */
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const here = fileURLToPath(import.meta.url);
// In the source tree the entry is TypeScript run by Node's type stripping; in dist it is JavaScript.
const ENTRY = join(here, '..', `json-thread-main${extname(here)}`);

export interface JsonThread {
  /** The UTF-8 bytes of `JSON.stringify(text)`, made on the thread; undefined at once when the thread cannot take it now. */
  jsonBytes(text: string): Promise<Uint8Array> | undefined;
  /** Starts the thread if it is not running; settles true once it takes texts, false if it failed. */
  started(): Promise<boolean>;
  /** Stops the thread (a later `jsonBytes` starts it again). */
  close(): Promise<void>;
}

/** The host's JSON thread; `entry` is its module (json-thread-main.ts; another one only in tests). */
export function createJsonThread(entry: string = ENTRY): JsonThread {
  let worker: Worker | undefined;
  let online = false;
  /** Settles when the running thread says it is ready (true) or fails before (false). */
  let onlineOrNot: Promise<boolean> = Promise.resolve(false);
  let failed = false;
  let nextId = 0;
  /** The one text in flight: its id and how to settle it. */
  let inFlight: { readonly id: number; readonly resolve: (bytes: Uint8Array) => void; readonly reject: (e: Error) => void } | undefined;

  const stop = (reason: Error): Promise<unknown> => {
    const w = worker;
    worker = undefined;
    online = false;
    inFlight?.reject(reason);
    inFlight = undefined;
    return w?.terminate() ?? Promise.resolve();
  };

  const start = (): void => {
    let w: Worker;
    try {
      w = new Worker(entry);
    } catch {
      failed = true;
      return;
    }
    worker = w;
    // The thread never keeps the host running: stdin (the client) does.
    w.unref();
    // This thread's own: a thread that exits after another was started settles only its own.
    let settleOnline: (ok: boolean) => void = () => {};
    onlineOrNot = new Promise((resolve) => {
      settleOnline = resolve;
    });
    w.on('message', (m: { readonly ready?: boolean; readonly id: number; readonly bytes: Uint8Array }) => {
      if (m.ready === true) {
        if (worker === w) online = true;
        settleOnline(worker === w);
        return;
      }
      if (worker !== w || inFlight === undefined || inFlight.id !== m.id) return;
      const done = inFlight;
      inFlight = undefined;
      done.resolve(m.bytes);
    });
    w.on('error', (e) => {
      // Out of memory, or anything else: the host goes on without the thread.
      failed = true;
      if (worker === w) void stop(e);
    });
    w.on('exit', () => {
      settleOnline(false);
      if (worker === w) void stop(new Error('the JSON thread exited'));
    });
  };

  return {
    jsonBytes(text) {
      if (failed) return undefined;
      if (worker === undefined) start();
      if (worker === undefined || !online || inFlight !== undefined) return undefined;
      const w = worker as Worker;
      const id = nextId++;
      return new Promise<Uint8Array>((resolve, reject) => {
        inFlight = { id, resolve, reject };
        w.postMessage({ id, text });
      });
    },
    started() {
      if (failed) return Promise.resolve(false);
      if (worker === undefined) start();
      return failed ? Promise.resolve(false) : onlineOrNot;
    },
    async close() {
      await stop(new Error('the JSON thread was closed'));
    },
  };
}
