/**
 * The CPU a bare round trip costs (bench/pipe-floor.ts's child and parent, utime + stime from /proc): what
 * a process-isolated call pays in CPU at the very least, to set against the plain server's CPU per call.
 * With `--isolate`, the round trip answered through a trivial tool call in an isolate entry (pipe-floor's
 * other child): the least this design's hop from the host to a worker costs in CPU.
 *
 *   node bench/floor-cpu.ts [N] [--isolate]
 */
import { cpuUs } from './harness.ts';
import { floorChild } from './pipe-floor.ts';

const isolate = process.argv.includes('--isolate');
const n = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 20000);
const { child, trip } = floorChild({ isolate });
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
