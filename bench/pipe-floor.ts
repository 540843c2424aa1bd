/**
 * The physical floor of the sandbox's design on this machine: the round trip of one small frame between
 * two Node processes over a socketpair (what every sandboxed call pays once, host → worker → host),
 * measured with the same framing the sandbox uses but no work at all on either side.
 *
 *   node bench/pipe-floor.ts            prints the median round trip in µs
 */
import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { encodeFrame, readFrames } from '../runtime/protocol.ts';
import { median } from './harness.ts';

if (process.argv[2] === 'child') {
  const socket = new Socket({ fd: 3, readable: true, writable: true });
  readFrames(
    socket,
    (m) => socket.write(encodeFrame(m as { t: string })),
    () => process.exit(1),
  );
} else if (import.meta.filename === process.argv[1]) {
  const us = await pipeRoundTripUs(3000);
  process.stdout.write(`socketpair round trip between two Node processes: median ${us.toFixed(1)} µs\n`);
}

/** Median round trip of a small framed message to a child process and back, µs. */
export async function pipeRoundTripUs(n: number): Promise<number> {
  const child = spawn(process.execPath, [import.meta.filename, 'child'], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
  const channel = child.stdio[3] as Socket;
  let resolveOne: (() => void) | null = null;
  readFrames(
    channel,
    () => resolveOne?.(),
    () => undefined,
  );
  const message = { t: 'ok', call: 1, json: '{"echo":"hello"}', cpuMs: 0 };
  const samples: number[] = [];
  for (let i = 0; i < n + 200; i++) {
    const t = performance.now();
    await new Promise<void>((r) => {
      resolveOne = r;
      channel.write(encodeFrame(message));
    });
    if (i >= 200) samples.push((performance.now() - t) * 1000);
  }
  child.kill();
  return median(samples);
}
