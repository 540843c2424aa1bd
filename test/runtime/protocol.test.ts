import { PassThrough } from 'node:stream';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MAX_FRAME_BYTES, encodeFrame, readFrames } from '../../runtime/protocol.ts';

function pipe(): { socket: Socket; messages: unknown[]; faults: string[] } {
  const socket = new PassThrough() as unknown as Socket;
  const messages: unknown[] = [];
  const faults: string[] = [];
  readFrames(socket, (m) => messages.push(m), (r) => faults.push(r));
  return { socket, messages, faults };
}

describe('the worker protocol', () => {
  it('carries a message and its raw text payload across split chunks', () => {
    const { socket, messages } = pipe();
    const args = JSON.stringify({ text: 'é✓ "quoted"'.repeat(1000) });
    const frame = encodeFrame({ t: 'call', call: 7, pkg: 'p', tool: 'x', args, paths: '{}' });
    for (let i = 0; i < frame.length; i += 1000) (socket as unknown as PassThrough).write(frame.subarray(i, i + 1000));
    expect(messages).toEqual([{ t: 'call', call: 7, pkg: 'p', tool: 'x', args, paths: '{}' }]);
  });

  it('carries bytes as a copy, never a view on the frame buffer', () => {
    const { socket, messages } = pipe();
    const bytes = new Uint8Array([0, 1, 2, 255]);
    (socket as unknown as PassThrough).write(encodeFrame({ t: 'res', call: 1, req: 2, ok: true, json: '{"status":200}', bytes }));
    const m = messages[0] as { bytes: Uint8Array; json: string };
    expect([...m.bytes]).toEqual([0, 1, 2, 255]);
    expect(m.bytes.buffer.byteLength).toBe(4);
    expect(m.json).toBe('{"status":200}');
  });

  it('lays a frame out as documented: lengths, payload kind and field, header JSON, raw payload (issue 14: encoded straight into the frame)', () => {
    // The layout of runtime/protocol.ts's header comment, built here the long way round.
    const layout = (head: object, kind: number, field: number, payload: Buffer) => {
      const header = Buffer.from(JSON.stringify(head), 'utf8');
      const out = Buffer.alloc(10 + header.length + payload.length);
      out.writeUInt32BE(6 + header.length + payload.length, 0);
      out.writeUInt32BE(header.length, 4);
      out[8] = kind;
      out[9] = field;
      header.copy(out, 10);
      payload.copy(out, 10 + header.length);
      return out;
    };
    // ASCII text; multi-byte characters and lone surrogates (UTF-8 gives them as U+FFFD) at either end, in the
    // middle, and a surrogate pair where an ASCII-sized frame would end; and in the header.
    const x = 'x'.repeat(100_000);
    const texts = ['', x, `é✓ \ud800 ${x} \udc00 😀`, `${x}é`, `${x}😀`, `${x}\ud800`, `é${x}`, `${x.slice(0, 50_000)}✓${x.slice(50_000)}`];
    for (const args of texts) {
      expect(encodeFrame({ t: 'call', call: 3, pkg: 'pé', tool: 'x', args, paths: '{}' }).equals(layout({ t: 'call', call: 3, pkg: 'pé', tool: 'x', paths: '{}' }, 1, 1, Buffer.from(args, 'utf8')))).toBe(true);
    }
    // Bytes given as a view in the middle of a larger buffer: only the viewed bytes travel.
    const big = new Uint8Array(300).map((_, i) => i & 0xff);
    const view = big.subarray(17, 217);
    expect(encodeFrame({ t: 'res', call: 1, req: 2, ok: true, json: '{}', bytes: view }).equals(layout({ t: 'res', call: 1, req: 2, ok: true, json: '{}' }, 2, 4, Buffer.from(view)))).toBe(true);
    expect(encodeFrame({ t: 'ping', seq: 1 }).equals(layout({ t: 'ping', seq: 1 }, 0, 0, Buffer.alloc(0)))).toBe(true);
  });

  it('carries the heartbeat frames', () => {
    const { socket, messages } = pipe();
    (socket as unknown as PassThrough).write(Buffer.concat([encodeFrame({ t: 'ping', seq: 41 }), encodeFrame({ t: 'pong', seq: 41 })]));
    expect(messages).toEqual([
      { t: 'ping', seq: 41 },
      { t: 'pong', seq: 41 },
    ]);
  });

  it('faults, and stops reading, on a frame over the limit', () => {
    const { socket, messages, faults } = pipe();
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    (socket as unknown as PassThrough).write(head);
    (socket as unknown as PassThrough).write(encodeFrame({ t: 'ready' }));
    expect(faults).toHaveLength(1);
    expect(messages).toEqual([]);
  });

  it('faults on a frame whose header is not JSON', () => {
    const { socket, faults } = pipe();
    const bad = Buffer.from('\u0000\u0000\u0000\u0009\u0000\u0000\u0000\u0003\u0000\u0000{{{');
    (socket as unknown as PassThrough).write(bad);
    expect(faults).toEqual(['malformed frame']);
  });
});

describe('the frame writer (issue 14)', () => {
  it('writes directly while the socket takes it, and through the stream, in order, once its buffer is full', async () => {
    const { createServer, connect } = await import('node:net');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createFrameWriter } = await import('../../runtime/protocol.ts');
    const path = join(mkdtempSync(join(tmpdir(), 'frames-')), 's');
    const received: unknown[] = [];
    const count = 64;
    const done = new Promise<void>((resolve) => {
      const server = createServer((peer) => {
        readFrames(
          peer,
          (m) => {
            received.push(m);
            if (received.length === count) {
              server.close();
              peer.destroy();
              resolve();
            }
          },
          () => undefined,
        );
      });
      server.listen(path);
    });
    const client = connect(path);
    await new Promise((r) => client.once('connect', r));
    const write = createFrameWriter(client);
    const body = 'x'.repeat(256 * 1024);
    // Far more than a socket buffer holds, written before the peer reads anything.
    for (let i = 0; i < count; i++) write(encodeFrame({ t: 'ok', call: i, json: `${i}:${body}`, cpuMs: 0 }));
    await done;
    client.destroy();
    expect(received.map((m) => (m as { call: number }).call)).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(received.every((m, i) => (m as { json: string }).json === `${i}:${body}`)).toBe(true);
  });
});

describe('the frame writer after its socket closed', () => {
  it('never writes to the descriptor number the socket had (it may belong to another file by now)', async () => {
    const { createServer, connect } = await import('node:net');
    const { mkdtempSync, openSync, closeSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createFrameWriter } = await import('../../runtime/protocol.ts');
    const dir = mkdtempSync(join(tmpdir(), 'frames-'));
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(join(dir, 's'), r));
    const client = connect(join(dir, 's'));
    await new Promise((r) => client.once('connect', r));
    client.on('error', () => undefined);
    const write = createFrameWriter(client);
    write(encodeFrame({ t: 'ready' }));
    client.destroy();
    // The lowest free descriptor: most likely the one the socket had.
    const other = openSync(join(dir, 'other'), 'w+');
    try {
      write(encodeFrame({ t: 'ping', seq: 1 }));
      expect(readFileSync(join(dir, 'other'), 'utf8')).toBe('');
    } finally {
      closeSync(other);
      server.close();
    }
  });
});
