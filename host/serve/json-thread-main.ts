/**
 * The entry of the host's JSON thread (json-thread.ts): each message is a text whose JSON string form it
 * sends back, `JSON.stringify(text)`, the same V8 on the same text as the main thread's, so the same
 * characters. Nothing else runs here: no file, no network, no package code.
 */
import { parentPort } from 'node:worker_threads';

parentPort?.on('message', (m: { readonly id: number; readonly text: string }) => {
  parentPort?.postMessage({ id: m.id, json: JSON.stringify(m.text) });
});
