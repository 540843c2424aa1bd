/**
 * A focused A/B of bench/run.ts's cold figure (not part of `npm run bench`): the first call to a package
 * whose isolate does not exist yet, in a server that is up and has served another package, minus the
 * second call to it. Each round starts one server per build (the order rotating from round to round) on a
 * home of `--packages` + 1 copies of the bench package, waits for its workers, warms the first package and
 * then takes the first and second call of each of the others, as bench/run.ts does.
 *
 *   node bench/cold.ts [--rounds 6] [--packages 10] [--workers N] [--other path/to/dist/host/cli.js] [--gap MS]
 *
 * --gap MS waits that long before each call (0, back to back, as bench/run.ts does, by default): what a
 * cold call costs when the worker had time to prepare its next spare isolate.
 */
import { parseArgs } from 'node:util';
import { call, connect, disconnect, median } from './harness.ts';
import type { ServerSpec } from './harness.ts';
import { prepareHome, wardenSpec } from './setup.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    packages: { type: 'string', default: '10' },
    workers: { type: 'string' },
    other: { type: 'string' },
    gap: { type: 'string', default: '0' },
  },
});
const packages = Number(values.packages);
const extra = values.workers === undefined ? [] : ['--workers', values.workers];
const home = await prepareHome(packages + 1, ['127.0.0.1']);
const specs: Record<string, ServerSpec> = { warden: wardenSpec(home, extra) };
if (values.other !== undefined) specs.other = wardenSpec(home, extra, values.other);
const kinds = Object.keys(specs);
const out: Record<string, { first: number[]; second: number[]; extra: number[]; roundExtra: number[] }> = {};
for (const k of kinds) out[k] = { first: [], second: [], extra: [], roundExtra: [] };

for (let r = 0; r < Number(values.rounds); r++) {
  for (let i = 0; i < kinds.length; i++) {
    const k = kinds[(i + r) % kinds.length] as string;
    const o = out[k] as (typeof out)[string];
    const w = await connect(specs[k] as ServerSpec);
    // The workers start in the background: let them (and their spare isolates) get ready.
    await new Promise((res) => setTimeout(res, 500));
    const names = w.toolNames.filter((n) => n.endsWith('__echo')).sort();
    for (let j = 0; j < 50; j++) await call(w, names[0] as string, { text: 'warm' });
    const round: number[] = [];
    const gap = () => (Number(values.gap) > 0 ? new Promise((res) => setTimeout(res, Number(values.gap))) : Promise.resolve());
    for (const name of names.slice(1)) {
      await gap();
      let t = performance.now();
      await call(w, name, { text: 'cold' });
      const first = (performance.now() - t) * 1000;
      await gap();
      t = performance.now();
      await call(w, name, { text: 'warm' });
      const second = (performance.now() - t) * 1000;
      o.first.push(Math.round(first));
      o.second.push(Math.round(second));
      o.extra.push(Math.round(first - second));
      round.push(first - second);
    }
    o.roundExtra.push(Math.round(median(round)));
    await disconnect(w);
  }
}
for (const k of kinds) {
  const o = out[k] as (typeof out)[string];
  process.stdout.write(`${k.padEnd(7)} first ${median(o.first)}  second ${median(o.second)}  first−second ${median(o.extra)} µs  (per round: ${o.roundExtra.join(' ')})\n`);
}
