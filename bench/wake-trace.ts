/**
 * Reading a scheduler trace of warm calls (bench/wakeups.ts): `perf script` lines of `sched:sched_waking`
 * events, each a thread waking another, cut into one call's hand-overs. Pure: text in, figures out.
 *
 * A sequential call hands over along a chain of processes: client → server → client for a plain server;
 * client → host → worker → host → client for mcp-warden. A hand-over is the first `sched_waking` of a
 * thread of the next process by a thread of the current one; a segment runs from one hand-over to the
 * next: what the woken process took to start running and do its part. A wake-up is *across CPUs* when the
 * waker's CPU is not the one the woken thread is placed on: on a virtual machine whose idle CPUs halt,
 * that is the costly kind (docs/performance.md, *Why a hop costs what it does here*).
 */

/** One `sched_waking` event: who woke whom, where and when. */
export interface Waking {
  /** Seconds, CLOCK_MONOTONIC (perf record -k CLOCK_MONOTONIC: process.hrtime's clock). */
  readonly time: number;
  /** The waker's thread id and CPU. */
  readonly tid: number;
  readonly cpu: number;
  /** The woken thread and the CPU it is placed on. */
  readonly target: number;
  readonly targetCpu: number;
}

const LINE = /^\s*\d+\/(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+sched:sched_waking:.*?\spid=(\d+)\s.*?target_cpu=(\d+)/;

/** The `sched_waking` events of `perf script -F pid,tid,cpu,time,event,trace` output; other lines are skipped. */
export function parseWakings(text: string): Waking[] {
  const out: Waking[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (m === null) continue;
    out.push({ tid: Number(m[1]), cpu: Number(m[2]), time: Number(m[3]), target: Number(m[4]), targetCpu: Number(m[5]) });
  }
  return out;
}

/** One call's segments (µs) and its wake-ups. */
export interface CallTrace {
  /** From the call's start to the first hand-over after the client's, hand-over to hand-over, the last to the next call's start. */
  readonly segmentsUs: readonly number[];
  /** Hand-overs of the chain whose wake-up crossed CPUs (the client's request counted when it woke the server). */
  readonly crossCpu: number;
  /** Wake-ups between two threads of one process of the inner roles (e.g. a worker's own threads). */
  readonly inner: number;
}

/**
 * The calls of a trace. `starts` are the calls' start times (seconds, the trace's clock), the last one the
 * end of the last call; `roleOf` names a thread's process role (e.g. 'client', 'host', 'worker'), or
 * undefined for threads outside the chain; `chain` is the roles in the order a call visits them, first and
 * last the same (the client). The client's request is not a mark: a server still busy with the previous
 * call is not woken by it. A call missing a later hand-over (a lost event, a call that never went further)
 * is left out. `innerRoles`: roles whose threads' wake-ups of each other are counted (`inner`).
 */
export function callTraces(wakings: readonly Waking[], starts: readonly number[], roleOf: (tid: number) => string | undefined, chain: readonly string[], innerRoles: readonly string[] = []): CallTrace[] {
  const hops = chain.length - 1;
  const out: CallTrace[] = [];
  let i = 0;
  for (let k = 0; k + 1 < starts.length; k++) {
    const from = starts[k] as number;
    const to = starts[k + 1] as number;
    while (i < wakings.length && (wakings[i] as Waking).time < from) i++;
    const marks: Waking[] = [];
    let inner = 0;
    let crossCpu = 0;
    for (; i < wakings.length && (wakings[i] as Waking).time < to; i++) {
      const w = wakings[i] as Waking;
      const a = roleOf(w.tid);
      const b = roleOf(w.target);
      if (a !== undefined && a === b && innerRoles.includes(a)) inner++;
      if (marks.length === 0 && a === chain[0] && b === chain[1] && w.cpu !== w.targetCpu) crossCpu++;
      const hop = marks.length + 1;
      if (hop < hops && a === chain[hop] && b === chain[hop + 1]) {
        marks.push(w);
        if (w.cpu !== w.targetCpu) crossCpu++;
      }
    }
    if (marks.length < hops - 1) continue;
    const times = [from, ...marks.map((m) => m.time), to];
    out.push({ segmentsUs: times.slice(1).map((t, j) => Math.round((t - (times[j] as number)) * 1e7) / 10), crossCpu, inner });
  }
  return out;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor(s.length / 2)] as number);
};
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);

/** Each segment's median over the calls, the mean of wake-ups across CPUs and of inner wake-ups per call. */
export function summarizeTraces(calls: readonly CallTrace[]): { readonly segmentsUs: number[]; readonly crossCpu: number; readonly inner: number; readonly calls: number } {
  const n = calls[0]?.segmentsUs.length ?? 0;
  return {
    segmentsUs: Array.from({ length: n }, (_, i) => median(calls.map((c) => c.segmentsUs[i] as number))),
    crossCpu: mean(calls.map((c) => c.crossCpu)),
    inner: mean(calls.map((c) => c.inner)),
    calls: calls.length,
  };
}
