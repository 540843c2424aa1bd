import { describe, expect, it } from 'vitest';
import { callTraces, parseWakings, summarizeTraces } from '../../bench/wake-trace.ts';

// bench/wakeups.ts cuts a scheduler trace into each call's hand-overs; these pin how it reads one, on a
// trace written out by hand in `perf script -F pid,tid,cpu,time,event,trace` form.

const waking = (pid: number, tid: number, cpu: number, time: string, target: number, targetCpu: number): string =>
  `${pid}/${tid} [00${cpu}] ${time}: sched:sched_waking: comm=MainThread pid=${target} prio=120 target_cpu=00${targetCpu}`;

const roles = new Map<number, string>([
  [101, 'client'],
  [200, 'host'],
  [300, 'worker'],
  [301, 'worker'],
]);
const roleOf = (tid: number): string | undefined => roles.get(tid);
const WARDEN = ['client', 'host', 'worker', 'host', 'client'];

const trace = [
  // call 1, from 10.000000
  waking(100, 101, 1, '10.000010', 200, 0), // the client's request wakes the host across CPUs
  '             100/101 [001] 10.000011: sched:sched_switch: prev_comm=node prev_pid=101 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120',
  waking(200, 200, 0, '10.000050', 300, 1), // host → worker, across
  waking(300, 300, 1, '10.000060', 301, 1), // the worker's main thread → isolated-vm's thread
  waking(300, 301, 1, '10.000070', 300, 1), // and back
  waking(300, 300, 1, '10.000100', 200, 0), // worker → host, across
  waking(200, 200, 0, '10.000130', 101, 0), // host → client, on the same CPU
  waking(9, 9, 0, '10.000140', 10, 1), // a thread outside the chain
  // call 2, from 10.000200: the worker never hands back within it
  waking(200, 200, 0, '10.000260', 300, 1),
  'not a perf line',
].join('\n');

describe('reading a scheduler trace of warm calls', () => {
  it('reads only sched_waking events, with the waker, the woken thread and their CPUs', () => {
    const w = parseWakings(trace);
    expect(w).toHaveLength(8);
    expect(w[0]).toEqual({ time: 10.00001, tid: 101, cpu: 1, target: 200, targetCpu: 0 });
  });

  it("cuts a call into its hand-overs, from the call's start to the next call's", () => {
    const calls = callTraces(parseWakings(trace), [10.0, 10.0002, 10.0004], roleOf, WARDEN, ['worker']);
    // call 2 is left out: it has no worker → host hand-over
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual({ segmentsUs: [50, 50, 30, 70], crossCpu: 3, inner: 2 });
  });

  it('counts the hand-overs of a plain server the same way', () => {
    const plain = [waking(100, 101, 1, '20.000010', 200, 0), waking(200, 200, 0, '20.000040', 101, 1), waking(200, 200, 0, '20.000120', 101, 1)].join('\n');
    const plainRoles = (tid: number): string | undefined => (tid === 101 ? 'client' : tid === 200 ? 'server' : undefined);
    const calls = callTraces(parseWakings(plain), [20.0, 20.0001, 20.0002], plainRoles, ['client', 'server', 'client']);
    // the second call's request did not wake the server (it was still running): its reply still marks it
    expect(calls.map((c) => c.segmentsUs)).toEqual([
      [40, 60],
      [20, 80],
    ]);
    expect(calls.map((c) => c.crossCpu)).toEqual([2, 1]);
    expect(summarizeTraces(calls)).toEqual({ segmentsUs: [40, 80], crossCpu: 1.5, inner: 0, calls: 2 });
  });
});
