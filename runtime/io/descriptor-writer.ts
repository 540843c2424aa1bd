/**
 * Writes to a stream with one direct `write(2)` on its descriptor while nothing waits in the stream: for the
 * small writes of a call's hot path (frames between host and worker, MCP replies on stdout) that is several
 * times cheaper than a stream write (no write request, no callbacks, no stream bookkeeping). When the
 * descriptor does not take everything (a full pipe or socket buffer: EAGAIN, or a partial write), the rest
 * goes through the stream, and so does every write after it until the stream has drained, so the order is
 * kept and the stream applies backpressure. Any other write error turns direct writes off for good and is
 * left to the stream, which reports it as it always did (its 'error' event, EPIPE…).
 *
 * The descriptor is read from the stream's live handle at every write, never kept: once the stream is
 * closed its number may be reused by another file or another worker's socket, and nothing must reach that.
 */
import { writeSync } from 'node:fs';
import type { Writable } from 'node:stream';

/** How a write went: all of it on the descriptor; or through the stream, below or past its high-water mark. */
export type DescriptorWrite = 'written' | 'buffered' | 'full';

export class DescriptorWriter {
  readonly #stream: Writable;
  #direct = true;
  /** The stream holds data not yet written: the next writes queue behind it. */
  #queued = false;

  constructor(stream: Writable) {
    this.#stream = stream;
  }

  /**
   * Writes `data`. `flushed` is called once what went through the stream is flushed; never for 'written'
   * (flushed already). A throwing stream write (after its end) throws here.
   */
  write(data: string | Buffer, flushed?: () => void): DescriptorWrite {
    let rest = data;
    const fd = this.#direct && !this.#queued ? descriptorOf(this.#stream) : null;
    if (fd !== null) {
      try {
        // A string is written as it is (no Buffer made for it); a partial write's rest continues on the stream.
        if (typeof data === 'string') {
          const n = writeSync(fd, data);
          if (n === Buffer.byteLength(data)) return 'written';
          rest = Buffer.from(data).subarray(n);
        } else {
          const n = writeSync(fd, data);
          if (n === data.length) return 'written';
          rest = data.subarray(n);
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') this.#direct = false;
      }
    }
    this.#queued = true;
    const ok = this.#stream.write(rest, () => {
      if (this.#stream.writableLength === 0) this.#queued = false;
      flushed?.();
    });
    return ok ? 'buffered' : 'full';
  }
}

/**
 * The descriptor under a stream's open handle (a pipe, socket or TTY: `_handle.fd`; a file stream: `fd`);
 * null when there is none (an in-memory stream) or the stream is destroyed.
 */
function descriptorOf(stream: Writable): number | null {
  const s = stream as unknown as { destroyed?: boolean; _handle?: { fd?: unknown } | null; fd?: unknown };
  if (s.destroyed === true) return null;
  const fd = s._handle !== undefined ? s._handle?.fd : s.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}
