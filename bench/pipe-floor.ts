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
import { Agent, request } from 'node:http';
import { Socket } from 'node:net';
import { frameArgs } from '../runtime/call-args.ts';
import { detectCpuBinding, pinFor } from '../runtime/pool/cpu-binding.ts';
import type { CpuPin } from '../runtime/pool/cpu-binding.ts';
import { AGENT_OPTIONS } from '../runtime/io/fetch.ts';
import type { RawStrings } from '../runtime/call-args.ts';
import { DEFAULT_LIMITS } from '../runtime/types.ts';
import { encodeFrame, readFrames } from '../runtime/protocol.ts';
import { startFetchTarget } from './fetch-target.ts';
import { median } from './harness.ts';

const FLOOR_TOOL = 'export default { echo: (input) => input };';
const BENCH_PACKAGE = new URL('./package/index.js', import.meta.url);

/**
 * The least ratio to the plain server's p50 a call can have through this design: the tool's own time in
 * Node, which the plain server pays, replaced by the floor of the call through this design.
 */
export function leastRatio(plainP50: number, toolInNode: number, floor: number): number {
  return (plainP50 - toolInNode + floor) / plainP50;
}

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
  const { PackageIsolate, freshArrayBuffer } = await import('../runtime/isolate.ts');
  const socket = new Socket({ fd: 3, readable: true, writable: true });
  const kind = process.argv[3] ?? 'echo';
  const tool = `tool:${kind}`;
  let answer: string | null = null;
  let call = 0;
  const iso = await PackageIsolate.create({
    source: kind === 'echo' ? FLOOR_TOOL : readFileSync(BENCH_PACKAGE, 'utf8'),
    filename: 'floor.js',
    memoryMb: DEFAULT_LIMITS.memoryMb, // a package's default heap, young generation included (runtime/isolate-entry.ts)
    timeoutMs: 5000,
    hooks: {
      onPost: (posted, _callId, reqId, a, b) => {
        if (posted === 'ok') answer = a;
        // A host request (the fetch tool's ctx.fetch) goes to the parent as the worker sends it to the host.
        else if (posted === 'req') socket.write(encodeFrame({ t: 'req', call, req: reqId, op: a, args: b }));
      },
      onCatastrophic: () => process.exit(1),
    },
  });
  const quota = { hostCalls: 100, logBytes: 0, outputBytes: 1024 * 1024 };
  let id = 0;
  // After each entry: the outcome, once the tool posted it (posted before the entry returns).
  const settled = () => {
    if (answer === null) return;
    socket.write(encodeFrame({ t: 'ok', call, json: answer, cpuMs: 0 }));
    answer = null;
  };
  readFrames(
    socket,
    (m) => {
      const message = m as { t: string; call: number; req: number; ok: boolean; json: string; bytes?: Uint8Array; raw?: RawStrings };
      if (message.t === 'res') {
        const bytes = message.bytes === undefined ? undefined : freshArrayBuffer(message.bytes);
        iso.deliver(id, message.req, message.ok, message.json, bytes, 5000).then(settled, () => process.exit(1));
        return;
      }
      call = message.call;
      iso.dispatch(++id, tool, message.raw === undefined ? { text: message.json } : { text: message.json, raw: message.raw }, '{}', quota, 5000).then(settled, () => process.exit(1));
    },
    () => process.exit(1),
  );
} else if (process.argv[2] === 'bound') {
  // Run by crossCpuRoundTrips bound to the first CPU it may use: its child bound to the CPU given, with that taskset.
  const pin: CpuPin = { taskset: process.argv[3] as string, cpu: Number(process.argv[4]) };
  process.stdout.write(`${await pipeRoundTripUs(3000, { pin, isolate: process.argv[5] === 'isolate' })}\n`);
} else if (import.meta.filename === process.argv[1]) {
  const us = await pipeRoundTripUs(3000);
  process.stdout.write(`socketpair round trip between two Node processes: median ${us.toFixed(1)} µs\n`);
  const bound = crossCpuRoundTrips();
  process.stdout.write(`  ${wakeUpLine(bound, idleSettings())}\n`);
  const iso = await pipeRoundTripUs(3000, { isolate: true });
  process.stdout.write(`the same, answered through an isolate entry (a trivial tool call; the child bound to one CPU where serve's workers would be): median ${iso.toFixed(1)} µs\n`);
  if (bound !== null) process.stdout.write(`  every process and thread bound to one CPU: ${bound.isolateSameCpu.toFixed(1)} µs\n`);
  const transform = await pipeRoundTripUs(500, { isolate: true, tool: 'transform' });
  process.stdout.write(`the same, the entry running the 100 KB transform: median ${transform.toFixed(1)} µs; the tool alone in this process: ${(await transformInNodeUs(500)).toFixed(1)} µs\n`);
  const api = await startFetchTarget();
  // After 3 000 fetches each: Node's fetch is still getting faster after a thousand (bench/run.ts).
  const fetched = await pipeRoundTripUs(1000, { isolate: true, tool: 'fetchJson', url: api.url, warmUp: 3000 });
  process.stdout.write(`the same, the entry running the gated fetch (its request answered by this process, from a server in another): median ${fetched.toFixed(1)} µs; the tool alone in this process: ${(await fetchInNodeUs(1000, api.url, 3000)).toFixed(1)} µs\n`);
  api.close();
}

export interface FloorOptions {
  /** The child answers each trip through a tool call in an isolate (see the header). */
  readonly isolate?: boolean;
  /**
   * That call: a trivial tool (default), bench/package's transform with its 100 KB arguments, or its gated
   * fetch of `url`: the child sends the tool's request to this process, which makes it with the host's HTTP
   * client (node:http, a keep-alive agent) and sends the response back to be delivered into the isolate.
   */
  readonly tool?: 'echo' | 'transform' | 'fetchJson';
  /** The URL fetchJson fetches (a local HTTP server). */
  readonly url?: string;
  /** The child bound to this CPU, with this `taskset` (runtime/pool/cpu-binding.ts). */
  readonly pin?: CpuPin;
  /** Round trips made before the ones measured (200 by default). */
  readonly warmUp?: number;
}

/**
 * The bare round trip with both processes bound to the first CPU this process may use, and with the child
 * bound to the second (medians, µs); null where workers could not be bound either (detectCpuBinding: not
 * Linux, no `taskset` at a system path, fewer than two CPUs allowed).
 */
export function crossCpuRoundTrips(): { sameCpu: number; twoCpus: number; isolateSameCpu: number } | null {
  const binding = detectCpuBinding(0);
  if (binding === null) return null;
  const first = pinFor(binding, 0);
  const run = (child: CpuPin, isolate = false) =>
    Number(execFileSync(binding.taskset, ['-c', String(first.cpu), process.execPath, import.meta.filename, 'bound', child.taskset, String(child.cpu), ...(isolate ? ['isolate'] : [])], { encoding: 'utf8' }));
  try {
    return { sameCpu: run(first), twoCpus: run(pinFor(binding, 1)), isolateSameCpu: run(first, true) };
  } catch {
    return null;
  }
}

/** How this machine's idle CPUs wait (Linux's cpuidle governor, and a guest's halt-polling window in ns): null where not readable. */
export interface IdleSettings {
  readonly governor: string | null;
  readonly haltPollNs: number | null;
}

/**
 * Read beside the round trips: where idle CPUs poll before halting (halt polling), a wake-up across CPUs
 * costs about what a switch on one does; where they halt at once, as on this project's virtual machines by
 * default, each costs a hypervisor round trip (docs/performance.md, *Why a hop costs what it does here*).
 */
export function idleSettings(): IdleSettings {
  const read = (path: string): string | null => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return null;
    }
  };
  const poll = read('/sys/module/haltpoll/parameters/guest_halt_poll_ns');
  return { governor: read('/sys/devices/system/cpu/cpuidle/current_governor'), haltPollNs: poll === null ? null : Number(poll) };
}

/** One line for a report: the bare round trip on one CPU and across two, and how idle CPUs wait. */
export function wakeUpLine(bound: { sameCpu: number; twoCpus: number } | null, idle: IdleSettings): string {
  const trips = bound === null ? 'bare round trip on one CPU and across two: not measured (needs Linux, taskset and two CPUs)' : `bare round trip with both processes on one CPU ${bound.sameCpu.toFixed(1)} µs, on two CPUs ${bound.twoCpus.toFixed(1)} µs (a wake-up across CPUs: ~${((bound.twoCpus - bound.sameCpu) / 2).toFixed(1)} µs more)`;
  const governor = idle.governor === null ? 'cpuidle governor unknown' : `cpuidle governor ${idle.governor}`;
  const poll = idle.haltPollNs === null ? '' : idle.haltPollNs === 0 ? ', halt polling off (guest_halt_poll_ns=0)' : `, halt polling up to ${idle.haltPollNs} ns`;
  return `${trips}; ${governor}${poll}`;
}

/** A child process of this file, and one round trip to it: a framed message there and back. */
export function floorChild(options: FloorOptions = {}): { child: ChildProcess; trip: () => Promise<void> } {
  // isolated-vm needs --no-node-snapshot (its README), as the sandbox's workers are started.
  const args = options.isolate ? ['--no-node-snapshot', import.meta.filename, 'child-isolate', options.tool ?? 'echo'] : [import.meta.filename, 'child'];
  // The child answering through an isolate is bound to one CPU as serve binds its workers (runtime/pool/cpu-binding.ts),
  // where it can be; `pin` binds it as given.
  const binding = options.pin === undefined && options.isolate ? detectCpuBinding() : null;
  const pin = options.pin ?? (binding === null ? null : pinFor(binding, 0));
  const child =
    pin === null
      ? spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] })
      : spawn(pin.taskset, ['-c', String(pin.cpu), process.execPath, ...args], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
  const channel = child.stdio[3] as Socket;
  // The same client the host's gated fetch uses: node:http with its keep-alive agent's options (runtime/io/fetch.ts).
  const agent = new Agent(AGENT_OPTIONS);
  child.once('exit', () => agent.destroy());
  let resolveOne: (() => void) | null = null;
  readFrames(
    channel,
    (m) => {
      const message = m as { t: string; call: number; req: number; args: string };
      if (message.t !== 'req') {
        resolveOne?.();
        return;
      }
      // The host's part of a gated fetch, without its checks: the request made, its response framed back.
      void answerFetch(agent, message.args).then((res) => channel.write(encodeFrame({ t: 'res', call: message.call, req: message.req, ok: true, ...res })));
    },
    () => undefined,
  );
  const small = { t: 'ok', call: 1, json: '{"echo":"hello"}', cpuMs: 0 };
  const work = options.tool === 'transform' ? transformArgs() : options.tool === 'fetchJson' ? { url: options.url } : null;
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

/**
 * A fetch the isolate asked for, made as the host makes it but without its checks (grant, address pinning,
 * limits, DLP): the response's metadata as JSON, and its body.
 */
function answerFetch(agent: Agent, argsJson: string): Promise<{ json: string; bytes: Uint8Array }> {
  const args = JSON.parse(argsJson) as { url: string; method?: string };
  return new Promise((resolve, reject) => {
    const req = request(args.url, { method: args.method ?? 'GET', agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) headers.push([(res.rawHeaders[i] as string).toLowerCase(), res.rawHeaders[i + 1] as string]);
        const meta = { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', url: args.url, redirected: false, headers };
        resolve({ json: JSON.stringify(meta), bytes: new Uint8Array(Buffer.concat(chunks)) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A tool of bench/package run in this process on its (parsed) input, as the plain server runs it: median µs of `n` calls after `warmUp`. */
async function toolInNodeUs(tool: 'transform' | 'fetchJson', input: unknown, n: number, warmUp = 100): Promise<number> {
  const tools = (await import(BENCH_PACKAGE.href)) as { default: Record<typeof tool, (input: unknown) => Promise<unknown>> };
  const samples: number[] = [];
  for (let i = 0; i < n + warmUp; i++) {
    const t = performance.now();
    await tools.default[tool](input);
    if (i >= warmUp) samples.push((performance.now() - t) * 1000);
  }
  return median(samples);
}

/** The fetch tool of bench/package on `url` in this process (Node's fetch), as the plain server runs it: median µs. */
export function fetchInNodeUs(n: number, url: string, warmUp?: number): Promise<number> {
  return toolInNodeUs('fetchJson', { url }, n, warmUp);
}

/** The transform tool of bench/package on its arguments in this process, as the plain server runs it: median µs. */
export function transformInNodeUs(n: number): Promise<number> {
  return toolInNodeUs('transform', transformArgs(), n);
}

/** Median round trip to a child process and back (floorChild), µs. */
export async function pipeRoundTripUs(n: number, options: FloorOptions = {}): Promise<number> {
  const { child, trip } = floorChild(options);
  const warmUp = options.warmUp ?? 200;
  const samples: number[] = [];
  for (let i = 0; i < n + warmUp; i++) {
    const t = performance.now();
    await trip();
    if (i >= warmUp) samples.push((performance.now() - t) * 1000);
  }
  child.kill();
  return median(samples);
}
