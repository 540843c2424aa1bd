/**
 * The framed protocol between the host and a sandbox worker: a 4-byte big-endian length, then that many
 * bytes of UTF-8 JSON. One frame is one message. Frames larger than MAX_FRAME_BYTES are a protocol fault
 * (the peer is killed), so a flooding worker cannot make the host buffer without bound.
 */
import type { Socket } from 'node:net';

export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** Encodes one message as a frame. */
export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/**
 * Reads frames from a socket and hands each parsed message to `onMessage`. Calls `onFault` once, and stops
 * reading, on an oversized frame or a frame that is not JSON.
 */
export function readFrames(socket: Socket, onMessage: (message: unknown) => void, onFault: (reason: string) => void): void {
  let chunks: Buffer[] = [];
  let buffered = 0;
  let need = -1;
  let faulted = false;
  socket.on('data', (chunk: Buffer) => {
    if (faulted) return;
    chunks.push(chunk);
    buffered += chunk.length;
    while (!faulted) {
      if (need < 0) {
        if (buffered < 4) return;
        const head = take(4);
        need = head.readUInt32BE(0);
        if (need > MAX_FRAME_BYTES) {
          faulted = true;
          onFault(`frame of ${need} bytes exceeds the limit`);
          return;
        }
      }
      if (buffered < need) return;
      const body = take(need);
      need = -1;
      let message: unknown;
      try {
        message = JSON.parse(body.toString('utf8'));
      } catch {
        faulted = true;
        onFault('frame is not JSON');
        return;
      }
      onMessage(message);
    }
  });

  function take(n: number): Buffer {
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    chunks = rest.length > 0 ? [rest] : [];
    buffered = rest.length;
    return out;
  }
}

/** Messages from the host to a worker. */
export type HostToWorker =
  | { t: 'load'; pkg: string; name: string; source: string; memoryMb: number; fresh: boolean }
  | { t: 'unload'; pkg: string }
  | {
      t: 'call';
      call: number;
      pkg: string;
      tool: string;
      args: string;
      paths: string;
      limits: WorkerCallLimits;
    }
  | { t: 'res'; call: number; req: number; ok: boolean; json: string; b64?: string; code?: string }
  | { t: 'cancel'; call: number }
  | { t: 'shutdown' };

export interface WorkerCallLimits {
  cpuMs: number;
  wallMs: number;
  outputBytes: number;
  hostCalls: number;
  logBytes: number;
  memoryMb: number;
}

/** Messages from a worker to the host. */
export type WorkerToHost =
  | { t: 'ready' }
  | { t: 'ok'; call: number; json: string; cpuMs: number }
  | { t: 'err'; call: number; code: string; message: string }
  | { t: 'req'; call: number; req: number; op: string; args: string; body?: string }
  | { t: 'abortReq'; call: number; req: number }
  | { t: 'log'; call: number; level: string; message: string; data?: string }
  | { t: 'progress'; call: number; json: string }
  | { t: 'stats'; rss: number; heaps: [string, number][] }
  | { t: 'fatal'; pkg: string | null; message: string };
