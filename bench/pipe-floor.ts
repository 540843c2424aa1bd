/**
 * The physical floor of the sandbox's design on this machine: the round trip of one small frame between
 * two Node processes over a socketpair (what every sandboxed call pays once, host → worker → host),
 * measured with the same framing the sandbox uses but no work at all on either side; and the same round
 * trip when the child answers each frame with a trivial tool call through a real isolate entry
 * (runtime/isolate.ts: PackageIsolate.dispatch, asynchronous on isolated-vm's thread as the worker runs
 * every entry since issue 8), without the worker's bookkeeping, the host, MCP or the audit trail.
 *
 *   node bench/pipe-floor.ts            prints both medians in µs
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { encodeFrame, readFrames } from '../runtime/protocol.ts';
import { median } from './harness.ts';

const FLOOR_TOOL = 'export default { echo: (input) => input };';

if (process.argv[2] === 'child') {
  const socket = new Socket({ fd: 3, readable: true, writable: true });
  readFrames(
    socket,
    (m) => socket.write(encodeFrame(m as { t: string })),
    () => process.exit(1),
  );
} else if (process.argv[2] === 'child-isolate') {
  const { PackageIsolate } = await import('../runtime/isolate.ts');
  const socket = new Socket({ fd: 3, readable: true, writable: true });
  let answer = '';
  const iso = await PackageIsolate.create({
    source: FLOOR_TOOL,
    filename: 'floor.js',
    memoryMb: 128,
    timeoutMs: 5000,
    hooks: {
      onPost: (kind, _callId, _reqId, a) => {
        if (kind === 'ok') answer = a;
      },
      onCatastrophic: () => process.exit(1),
    },
  });
  const quota = { hostCalls: 0, logBytes: 0, outputBytes: 1024 * 1024 };
  let id = 0;
  readFrames(
    socket,
    (m) => {
      const message = m as { t: string; call: number; json: string; cpuMs: number };
      iso.dispatch(++id, 'tool:echo', { text: message.json }, '{}', quota, 5000).then(
        () => socket.write(encodeFrame({ ...message, json: answer })),
        () => process.exit(1),
      );
    },
    () => process.exit(1),
  );
} else if (import.meta.filename === process.argv[1]) {
  const us = await pipeRoundTripUs(3000);
  process.stdout.write(`socketpair round trip between two Node processes: median ${us.toFixed(1)} µs\n`);
  const iso = await pipeRoundTripUs(3000, { isolate: true });
  process.stdout.write(`the same, answered through an isolate entry (a trivial tool call): median ${iso.toFixed(1)} µs\n`);
}

/**
 * A child process of this file, and one round trip to it: a small framed message there and back.
 * `isolate`: the child answers each through a trivial tool call in an isolate (see the header).
 */
export function floorChild(options: { isolate?: boolean } = {}): { child: ChildProcess; trip: () => Promise<void> } {
  // isolated-vm needs --no-node-snapshot (its README), as the sandbox's workers are started.
  const args = options.isolate ? ['--no-node-snapshot', import.meta.filename, 'child-isolate'] : [import.meta.filename, 'child'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
  const channel = child.stdio[3] as Socket;
  let resolveOne: (() => void) | null = null;
  readFrames(
    channel,
    () => resolveOne?.(),
    () => undefined,
  );
  const message = { t: 'ok', call: 1, json: '{"echo":"hello"}', cpuMs: 0 };
  const trip = () =>
    new Promise<void>((r) => {
      resolveOne = r;
      channel.write(encodeFrame(message));
    });
  return { child, trip };
}

/** Median round trip to a child process and back (floorChild), µs. */
export async function pipeRoundTripUs(n: number, options: { isolate?: boolean } = {}): Promise<number> {
  const { child, trip } = floorChild(options);
  const samples: number[] = [];
  for (let i = 0; i < n + 200; i++) {
    const t = performance.now();
    await trip();
    if (i >= 200) samples.push((performance.now() - t) * 1000);
  }
  child.kill();
  return median(samples);
}
