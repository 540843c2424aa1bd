/**
 * The transport's replies on a real stdout pipe (a child process): a reply goes to the descriptor in one
 * write(2) (not through the stream), and when the pipe is full the rest follows through the stream, whole
 * and in order. Every wait is on an event (a line on stdout or stderr), never on time.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const TRANSPORT = pathToFileURL(join(import.meta.dirname, '..', '..', '..', 'host', 'serve', 'transport.ts')).href;

// The child: a transport on its own stdin/stdout that counts the lines written through the stream.
const CHILD = `
const { BoundedStdioTransport } = await import(${JSON.stringify(TRANSPORT)});
let streamWrites = 0;
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (...a) => { streamWrites++; return write(...a); };
const t = new BoundedStdioTransport(process.stdin, process.stdout);
t.onerror = () => {};
t.onclose = () => process.stderr.write('closed\\n');
t.onmessage = (m) => {
  if (m.method === 'small') void t.send({ jsonrpc: '2.0', id: m.id, result: { ok: true } }).then(() => process.stderr.write('writes ' + streamWrites + '\\n'));
  if (m.method === 'big') {
    void t.send({ jsonrpc: '2.0', id: m.id, result: { text: 'é'.repeat(m.params.n) } });
    void t.send({ jsonrpc: '2.0', id: m.id + 1, result: { after: true } });
    process.stderr.write('queued ' + streamWrites + '\\n');
  }
};
await t.start();
`;

let child: ChildProcessWithoutNullStreams | undefined;
afterEach(() => {
  child?.kill();
  child = undefined;
});

/** Lines of a stream, each resolved in order as it arrives. */
function lines(stream: NodeJS.ReadableStream): () => Promise<string> {
  let buf = '';
  const ready: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(line);
      else ready.push(line);
    }
  });
  return () => {
    const l = ready.shift();
    return l !== undefined ? Promise.resolve(l) : new Promise((resolve) => waiting.push(resolve));
  };
}

function start(): { c: ChildProcessWithoutNullStreams; out: () => Promise<string>; err: () => Promise<string> } {
  const c = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { stdio: 'pipe' });
  child = c;
  return { c, out: lines(c.stdout), err: lines(c.stderr) };
}

describe('replies on a real stdout pipe', () => {
  it('writes a reply to the descriptor at once, not through the stream', async () => {
    const { c, out, err } = start();
    c.stdin.write('{"jsonrpc":"2.0","id":1,"method":"small"}\n');
    expect(JSON.parse(await out())).toEqual({ jsonrpc: '2.0', id: 1, result: { ok: true } });
    expect(await err()).toBe('writes 0');
    // A malformed line still gets its error, on the same path.
    c.stdin.write('{oops\n');
    expect(JSON.parse(await out())).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
  });

  it('sends the whole of a reply larger than the pipe, then the next one, in order', async () => {
    const { c, out, err } = start();
    // The parent reads nothing until the child has handed both replies over: its stdout pipe fills.
    c.stdout.pause();
    const n = 2_000_000; // 4 MB of UTF-8, far more than a pipe and the reader's buffer hold
    c.stdin.write(`{"jsonrpc":"2.0","id":1,"method":"big","params":{"n":${n}}}\n`);
    const queued = await err();
    // The pipe took part of it; the rest went through the stream (and the next reply behind it).
    expect(Number(queued.split(' ')[1])).toBeGreaterThanOrEqual(1);
    c.stdout.resume();
    const big = JSON.parse(await out()) as { id: number; result: { text: string } };
    expect(big.id).toBe(1);
    expect(big.result.text.length).toBe(n);
    expect(big.result.text).toBe('é'.repeat(n));
    expect(JSON.parse(await out())).toEqual({ jsonrpc: '2.0', id: 2, result: { after: true } });
  });

  it('ends the session, not the process, when the reader has gone away', async () => {
    const { c, err } = start();
    c.stdout.destroy();
    c.stdin.write('{"jsonrpc":"2.0","id":1,"method":"small"}\n');
    const seen: string[] = [];
    for (let l = await err(); ; l = await err()) {
      seen.push(l);
      if (l === 'closed') break;
    }
    expect(seen).toContain('closed');
    expect(c.exitCode).toBe(null);
  });
});
