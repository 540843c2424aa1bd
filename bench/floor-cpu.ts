/**
 * The CPU a bare round trip costs (bench/pipe-floor.ts's child and parent, utime + stime from /proc): what
 * a process-isolated call pays in CPU at the very least, to set against the plain server's CPU per call.
 * With `--isolate`, the round trip answered through a trivial tool call in an isolate entry (pipe-floor's
 * other child): the least this design's hop from the host to a worker costs in CPU.
 *
 *   node bench/floor-cpu.ts [N] [--isolate]
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { encodeFrame, readFrames } from '../runtime/protocol.ts';
import { cpuUs } from './harness.ts';

const isolate = process.argv.includes('--isolate');
const n = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 20000);
// isolated-vm needs --no-node-snapshot (its README), as the sandbox's workers are started.
const childArgs = isolate ? ['--no-node-snapshot', `${import.meta.dirname}/pipe-floor.ts`, 'child-isolate'] : [`${import.meta.dirname}/pipe-floor.ts`, 'child'];
const child = spawn(process.execPath, childArgs, { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
const channel = child.stdio[3] as Socket;
let resolveOne: (() => void) | null = null;
readFrames(channel, () => resolveOne?.(), () => undefined);
const message = { t: 'ok', call: 1, json: '{"echo":"hello"}', cpuMs: 0 };
const trip = () =>
  new Promise<void>((r) => {
    resolveOne = r;
    channel.write(encodeFrame(message));
  });
for (let i = 0; i < 500; i++) await trip();
const selfBefore = cpuUs(process.pid);
const childBefore = cpuUs(child.pid as number);
const started = performance.now();
for (let i = 0; i < n; i++) await trip();
const wall = ((performance.now() - started) * 1000) / n;
const self = (cpuUs(process.pid) - selfBefore) / n;
const other = (cpuUs(child.pid as number) - childBefore) / n;
child.kill();
process.stdout.write(`${isolate ? 'round trip through an isolate entry' : 'bare round trip'}: ${wall.toFixed(1)} µs wall (mean), CPU ${self.toFixed(1)} µs parent + ${other.toFixed(1)} µs child = ${(self + other).toFixed(1)} µs\n`);
