/**
 * The entry of the host's JSON thread (json-thread.ts): each message is a text; the answer is the UTF-8
 * bytes of its JSON string form, `JSON.stringify(text)` (the same V8 on the same text as the main thread's,
 * so the same characters), their buffer handed over rather than copied. Nothing else runs here: no file,
 * no network, no package code.
 */
import { parentPort } from 'node:worker_threads';

const encoder = new TextEncoder();

parentPort?.on('message', (m: { readonly id: number; readonly text: string }) => {
  const bytes = encoder.encode(JSON.stringify(m.text));
  parentPort?.postMessage({ id: m.id, bytes }, [bytes.buffer]);
});
// Loaded and listening: the host may send texts from now on.
parentPort?.postMessage({ ready: true });
