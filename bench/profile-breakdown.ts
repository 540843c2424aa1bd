/**
 * Where a warm call's time goes, from a V8 CPU profile (`--cpu-prof`) of mcp-warden's host or of a sandbox
 * worker taken while bench/micro.ts drives calls: each sample is put in the first category (in the order
 * below) that any frame of its stack belongs to, and the totals are divided by the number of calls.
 *
 *   node bench/profile-breakdown.ts PROFILE.cpuprofile CALLS host|worker
 *
 * Samples are wall-clock time on the thread: a write(2) that wakes the peer process can be charged for the
 * time the kernel ran that peer instead (wake-up preemption on a busy machine). Set the totals against the
 * CPU per call that /proc reports (bench/micro.ts prints both).
 */
import { readFileSync } from 'node:fs';

interface Frame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: Frame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}
type Category = readonly [string, (f: Frame) => boolean];

const startUp = (f: Frame) => f.functionName === 'evaluate' || f.url.includes('esm/') || f.url.includes('cjs/loader') || f.url.includes('bootstrap/realm');
const HOST: readonly Category[] = [
  ['idle', (f) => f.functionName === '(idle)'],
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['audit: the record written (JSON line, write(2))', (f) => f.url.endsWith('serve/audit.js') && f.functionName === 'write'],
  ['audit: argument digest (canonical JSON + HMAC)', (f) => (f.url.endsWith('serve/audit.js') && f.functionName === 'digest') || (f.url.endsWith('serve/audit-records.js') && f.functionName === 'argsDigest')],
  ['hop: frame to the worker (encode + write(2))', (f) => f.url.endsWith('pool/supervisor.js') && f.functionName === 'send'],
  ['MCP response: serialize + stdout write(2)', (f) => f.url.endsWith('serve/transport.js') && (f.functionName === 'send' || f.functionName === '#write')],
  ['start-up (module loading; once)', startUp],
  ['ajv compile (start-up, background warm-up; once)', (f) => f.url.includes('/ajv/') && /compile/i.test(f.functionName)],
  ['MCP request: stdin read + JSON parse + request schema', (f) => f.url.endsWith('serve/transport.js')],
  ['host handler: argument checks, result mapping', (f) => f.url.includes('/host/serve/') || f.url.includes('/ajv/')],
  ['SDK: dispatch, zod checks, response building', (f) => f.url.includes('@modelcontextprotocol') || f.url.includes('/zod/')],
  ['hop: frame from the worker (read + decode + settle)', (f) => f.url.endsWith('runtime/protocol.js')],
  ['pool: scheduler and supervisor bookkeeping', (f) => f.url.includes('/runtime/pool/')],
];
const WORKER: readonly Category[] = [
  ['idle', (f) => f.functionName === '(idle)'],
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['hop: frame to the host (encode + write(2))', (f) => f.url.endsWith('worker/state.js') && f.functionName === 'send'],
  ['start-up (module loading; once)', startUp],
  ['isolate entry: Reference.apply (to an isolated-vm thread and back)', (f) => f.url.endsWith('runtime/isolate.js') && f.functionName === '#enter'],
  ['isolate messages: the post callback (result, logs)', (f) => f.url.endsWith('runtime/isolate.js')],
  ['limits: the sampler (CPU, memory, wall deadlines)', (f) => f.url.endsWith('worker/cpu-meter.js') || f.url.endsWith('worker/limits.js')],
  ['hop: frame from the host (read + decode)', (f) => f.url.endsWith('runtime/protocol.js') || f.url.includes('stream_base_commons') || f.url.includes('streams/')],
  ['worker call bookkeeping', (f) => /worker\/(main|calls|entries|state)\.js$/.test(f.url)],
];

const [file, callsText, kind] = process.argv.slice(2);
if (file === undefined || kind === undefined) throw new Error('usage: node bench/profile-breakdown.ts PROFILE CALLS host|worker');
const calls = Number(callsText);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const categories = kind === 'worker' ? WORKER : HOST;
const sums = new Map<string, number>();
let total = 0;
profile.samples.forEach((sample, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const stack: Frame[] = [];
  for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
    const node = byId.get(id);
    if (node !== undefined) stack.push(node.callFrame);
  }
  const category = categories.find(([, matches]) => stack.some(matches))?.[0] ?? 'other';
  sums.set(category, (sums.get(category) ?? 0) + dt);
});
const busy = total - (sums.get('idle') ?? 0);
process.stdout.write(`${kind}: ${(total / 1000).toFixed(0)} ms profiled, ${(busy / 1000).toFixed(0)} ms busy; per call (${calls} calls):\n`);
for (const [name, us] of [...sums].sort((a, b) => b[1] - a[1])) {
  if (name !== 'idle') process.stdout.write(`${(us / calls).toFixed(1).padStart(7)} µs  ${name}\n`);
}
