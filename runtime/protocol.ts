/**
 * The framed protocol between the host and a sandbox worker. A frame is:
 *
 *   u32 BE  length of the rest
 *   u32 BE  length of the header
 *   u8      payload kind: 0 none, 1 UTF-8 text, 2 bytes
 *   u8      payload field: index into PAYLOAD_FIELDS
 *   header  UTF-8 JSON of the message, without its payload field
 *   payload the message's one large field, raw
 *
 * Carrying the large field (a call's arguments, a result, a file or response body) raw spares escaping it
 * into JSON and parsing it back on each side (measured: 0.6 ms for a 92 KB argument) and base64 for bytes.
 * Frames larger than MAX_FRAME_BYTES are a protocol fault (the peer is killed), so a flooding worker
 * cannot make the host buffer without bound.
 */
import type { Socket } from 'node:net';
import { DescriptorWriter } from './io/descriptor-writer.ts';
import type { RawStrings } from './call-args.ts';

export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

const UTF8 = new TextEncoder();

/** The fields that travel as raw payload, per message type. */
const PAYLOAD_FIELD: Readonly<Record<string, string>> = {
  load: 'source',
  call: 'args',
  ok: 'json',
  req: 'body',
  res: 'bytes',
};
const PAYLOAD_FIELDS: readonly string[] = ['source', 'args', 'json', 'body', 'bytes'];

/** Encodes one message as a frame. */
export function encodeFrame(message: { t: string } & Record<string, unknown>): Buffer {
  let field = PAYLOAD_FIELD[message.t];
  let payload: unknown = field === undefined ? undefined : message[field];
  // A result without bytes carries its JSON as the payload instead.
  if (message.t === 'res' && payload === undefined) {
    field = 'json';
    payload = message.json;
  }
  let head: Record<string, unknown> = message;
  let text: string | null = null;
  let bytes: Uint8Array | null = null;
  let kind = 0;
  let index = 0;
  if (field !== undefined && (typeof payload === 'string' || payload instanceof Uint8Array)) {
    head = { ...message, [field]: undefined };
    kind = typeof payload === 'string' ? 1 : 2;
    index = PAYLOAD_FIELDS.indexOf(field);
    if (typeof payload === 'string') text = payload;
    else bytes = payload;
  }
  const header = Buffer.from(JSON.stringify(head), 'utf8');
  const at = 10 + header.length;
  let frame: Buffer;
  if (text !== null) {
    // The text is encoded straight into the frame (no intermediate Buffer of its size). UTF-8 takes at least
    // one byte per UTF-16 unit, so a frame sized for an ASCII text is tried first: it fits when the encoder
    // read all of the text (measuring the UTF-8 length first would cost several times the encoding).
    // Otherwise what was encoded is kept, and only the rest is measured (the encoder stops between code
    // points, so the rest starts on one).
    frame = Buffer.allocUnsafe(at + text.length);
    const { read, written } = UTF8.encodeInto(text, frame.subarray(at));
    if (read !== text.length) {
      const rest = text.slice(read);
      const whole = Buffer.allocUnsafe(at + written + Buffer.byteLength(rest, 'utf8'));
      frame.copy(whole, at, at, at + written);
      whole.write(rest, at + written, 'utf8');
      frame = whole;
    }
  } else {
    frame = Buffer.allocUnsafe(at + (bytes === null ? 0 : bytes.byteLength));
    if (bytes !== null) frame.set(bytes, at);
  }
  frame.writeUInt32BE(frame.length - 4, 0);
  frame.writeUInt32BE(header.length, 4);
  frame[8] = kind;
  frame[9] = index;
  header.copy(frame, 10);
  return frame;
}

function decodeFrame(frame: Buffer): unknown {
  if (frame.length < 6) throw new Error('short frame');
  const headerLength = frame.readUInt32BE(0);
  if (headerLength > frame.length - 6) throw new Error('bad header length');
  const kind = frame[4];
  const message = JSON.parse(frame.toString('utf8', 6, 6 + headerLength)) as Record<string, unknown>;
  if (message === null || typeof message !== 'object') throw new Error('not an object');
  if (kind === 1 || kind === 2) {
    const field = PAYLOAD_FIELDS[frame[5] as number];
    if (field === undefined) throw new Error('bad payload field');
    const raw = frame.subarray(6 + headerLength);
    // Bytes are copied out of the frame: never a view on a shared or pooled buffer.
    message[field] = kind === 2 ? new Uint8Array(raw) : raw.toString('utf8');
  }
  return message;
}

/**
 * Reads frames from a socket and hands each decoded message to `onMessage`. Calls `onFault` once, and stops
 * reading, on an oversized or malformed frame.
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
        message = decodeFrame(body);
      } catch {
        faulted = true;
        onFault('malformed frame');
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

/**
 * A writer of frames to a socket: one direct write(2) on its descriptor while the socket takes the frames,
 * the stream when its buffer is full or earlier frames still wait (runtime/io/descriptor-writer.ts).
 */
export function createFrameWriter(socket: Socket): (frame: Buffer) => void {
  const writer = new DescriptorWriter(socket);
  return (frame) => void writer.write(frame);
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
      /** The arguments' frame text (runtime/call-args.ts). */
      args: string;
      /** The raw strings after the JSON in `args`, when there are any. */
      raw?: RawStrings;
      paths: string;
      limits: WorkerCallLimits;
    }
  | { t: 'res'; call: number; req: number; ok: boolean; json: string; bytes?: Uint8Array }
  | { t: 'cancel'; call: number }
  /** Moves a call's wall-clock deadline by `ms` (may be negative): the time the host spent asking the user (docs/consent.md). */
  | { t: 'extend'; call: number; ms: number }
  /** Heartbeat: the worker answers with a pong carrying the same seq (any frame counts as alive). */
  | { t: 'ping'; seq: number }
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
  | { t: 'pong'; seq: number }
  | { t: 'ok'; call: number; json: string; cpuMs: number }
  | { t: 'err'; call: number; code: string; message: string }
  | { t: 'req'; call: number; req: number; op: string; args: string; body?: Uint8Array }
  | { t: 'abortReq'; call: number; req: number }
  | { t: 'log'; call: number; level: string; message: string; data?: string }
  | { t: 'progress'; call: number; json: string }
  | { t: 'stats'; rss: number; heaps: [string, number][] }
  | { t: 'fatal'; pkg: string | null; message: string };
