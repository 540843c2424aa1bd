/**
 * The physical floor of the sandbox's design on this machine: the round trip of one small frame between
 * two Node processes over a socketpair (what every sandboxed call pays once, host → worker → host),
 * measured with the same framing the sandbox uses but no work at all on either side; and the same round
 * trip when the child answers each frame with a trivial tool call through a real isolate entry
 * (runtime/isolate.ts: PackageIsolate.dispatch, asynchronous on isolated-vm's thread as the worker runs
 * every entry since issue 8), without the worker's bookkeeping, the host, MCP or the audit trail; that child
 * is bound to one CPU as `serve` binds its workers, where the system allows it (runtime/pool/cpu-binding.ts). With
 * `tool: 'transform'`, the child runs bench/package's 100 KB transform in that entry instead, its arguments
 * framed as the host frames them (runtime/call-args.ts): the least that call costs through this design.
 *
 * Standalone, where Linux's `taskset` is available on a machine with two CPUs or more, it also measures the bare
 * round trip with both processes bound to one CPU and to two different ones: the difference is what waking a
 * process on another CPU costs here, twice per round trip (on a virtual machine an idle virtual CPU must be
 * woken through the hypervisor); and the round trip through an isolate entry with everything bound to one
 * CPU, where its four wake-ups (process, isolate thread, and back) cost no more than a switch.
 *
 *   node bench/pipe-floor.ts            prints the medians in µs
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Socket } from 'node:net';
import { frameArgs } from '../runtime/call-args.ts';
import { cpuFor, detectCpuBinding } from '../runtime/pool/cpu-binding.ts';
import type { RawStrings } from '../runtime/call-args.ts';
import { DEFAULT_LIMITS } from '../runtime/types.ts';
import { encodeFrame, readFrames } from '../runtime/protocol.ts';
import { median } from './harness.ts';

const FLOOR_TOOL = 'export default { echo: (input) => input };';
const BENCH_PACKAGE = new URL('./package/index.js', import.meta.url);

/** bench/run.ts's 100 KB transform arguments: ~92 KB of JSON rows in one string. */
export function transformArgs(): { json: string } {
  return { json: JSON.stringify(Array.from({ length: 900 }, (_, i) => ({ id: i, name: `row-${i}-${'x'.repeat(40)}`, items: [i, i + 1, i + 2, i * 3] }))) };
}

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
  const tool = process.argv[3] === 'transform' ? 'tool:transform' : 'tool:echo';
  let answer = '';
  const iso = await PackageIsolate.create({
    source: tool === 'tool:transform' ? readFileSync(BENCH_PACKAGE, 'utf8') : FLOOR_TOOL,
    filename: 'floor.js',
    memoryMb: DEFAULT_LIMITS.memoryMb, // a package's default heap, young generation included (runtime/isolate-entry.ts)
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
      const message = m as { t: string; call: number; json: string; raw?: RawStrings; cpuMs: number };
      iso.dispatch(++id, tool, message.raw === undefined ? { text: message.json } : { text: message.json, raw: message.raw }, '{}', quota, 5000).then(
        () => socket.write(encodeFrame({ t: message.t, call: message.call, json: answer, cpuMs: 0 })),
        () => process.exit(1),
      );
    },
    () => process.exit(1),
  );
} else if (process.argv[2] === 'bound') {
  // Run by crossCpuRoundTrips under `taskset -c 0`: its child bound to the CPU given.
  process.stdout.write(`${await pipeRoundTripUs(3000, { cpu: Number(process.argv[3]), isolate: process.argv[4] === 'isolate' })}\n`);
} else if (import.meta.filename === process.argv[1]) {
  const us = await pipeRoundTripUs(3000);
  process.stdout.write(`socketpair round trip between two Node processes: median ${us.toFixed(1)} µs\n`);
  const bound = crossCpuRoundTrips();
  if (bound !== null) {
    process.stdout.write(
      `  both processes bound to one CPU: ${bound.sameCpu.toFixed(1)} µs; to two CPUs: ${bound.twoCpus.toFixed(1)} µs (a wake-up across CPUs: ~${((bound.twoCpus - bound.sameCpu) / 2).toFixed(1)} µs more)\n`,
    );
  }
  const iso = await pipeRoundTripUs(3000, { isolate: true });
  process.stdout.write(`the same, answered through an isolate entry (a trivial tool call; the child bound to one CPU where serve's workers would be): median ${iso.toFixed(1)} µs\n`);
  if (bound !== null) process.stdout.write(`  every process and thread bound to one CPU: ${bound.isolateSameCpu.toFixed(1)} µs\n`);
  const transform = await pipeRoundTripUs(500, { isolate: true, tool: 'transform' });
  process.stdout.write(`the same, the entry running the 100 KB transform: median ${transform.toFixed(1)} µs; the tool alone in this process: ${(await transformInNodeUs(500)).toFixed(1)} µs\n`);
}

export interface FloorOptions {
  /** The child answers each trip through a tool call in an isolate (see the header). */
  readonly isolate?: boolean;
  /** That call: a trivial tool (default), or bench/package's transform with its 100 KB arguments. */
  readonly tool?: 'echo' | 'transform';
  /** The child bound to this CPU (Linux `taskset`). */
  readonly cpu?: number;
}

/**
 * The bare round trip with both processes bound to CPU 0, and with the child bound to CPU 1 (medians, µs);
 * null where `taskset` is missing or there is one CPU.
 */
export function crossCpuRoundTrips(): { sameCpu: number; twoCpus: number; isolateSameCpu: number } | null {
  if (process.platform !== 'linux' || availableParallelism() < 2) return null;
  const run = (cpu: number, isolate = false) =>
    Number(execFileSync('taskset', ['-c', '0', process.execPath, import.meta.filename, 'bound', String(cpu), ...(isolate ? ['isolate'] : [])], { encoding: 'utf8' }));
  try {
    return { sameCpu: run(0), twoCpus: run(1), isolateSameCpu: run(0, true) };
  } catch {
    return null;
  }
}

/** A child process of this file, and one round trip to it: a framed message there and back. */
export function floorChild(options: FloorOptions = {}): { child: ChildProcess; trip: () => Promise<void> } {
  // isolated-vm needs --no-node-snapshot (its README), as the sandbox's workers are started.
  const args = options.isolate ? ['--no-node-snapshot', import.meta.filename, 'child-isolate', options.tool ?? 'echo'] : [import.meta.filename, 'child'];
  // The child answering through an isolate is bound to one CPU as serve binds its workers (runtime/pool/cpu-binding.ts), where it can be.
  const binding = options.isolate && options.cpu === undefined ? detectCpuBinding() : null;
  if (binding !== null) options = { ...options, cpu: cpuFor(binding, 0) };
  const child =
    options.cpu === undefined
      ? spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] })
      : spawn('taskset', ['-c', String(options.cpu), process.execPath, ...args], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
  const channel = child.stdio[3] as Socket;
  let resolveOne: (() => void) | null = null;
  readFrames(
    channel,
    () => resolveOne?.(),
    () => undefined,
  );
  const small = { t: 'ok', call: 1, json: '{"echo":"hello"}', cpuMs: 0 };
  const work = options.tool === 'transform' ? transformArgs() : null;
  // The transform's arguments are framed on every trip, as the host frames a call's.
  const message = () => {
    if (work === null) return small;
    const f = frameArgs(work, DEFAULT_LIMITS.inputBytes);
    return { t: 'ok', call: 1, json: f.text, ...(f.raw !== undefined ? { raw: f.raw } : {}), cpuMs: 0 };
  };
  const trip = () =>
    new Promise<void>((r) => {
      resolveOne = r;
      channel.write(encodeFrame(message()));
    });
  return { child, trip };
}

/** The transform tool of bench/package run in this process on its (parsed) arguments, as the plain server runs it: median µs. */
export async function transformInNodeUs(n: number): Promise<number> {
  const tools = (await import(BENCH_PACKAGE.href)) as { default: { transform: (input: unknown) => Promise<unknown> } };
  const input = transformArgs();
  const samples: number[] = [];
  for (let i = 0; i < n + 100; i++) {
    const t = performance.now();
    await tools.default.transform(input);
    if (i >= 100) samples.push((performance.now() - t) * 1000);
  }
  return median(samples);
}

/** Median round trip to a child process and back (floorChild), µs. */
export async function pipeRoundTripUs(n: number, options: FloorOptions = {}): Promise<number> {
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
