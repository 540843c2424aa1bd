/**
 * How a server's warm trivial call settles after it starts (not part of `npm run bench`): fresh servers,
 * then blocks of sequential calls from the very first one, taking turns block by block, with each block's
 * p50 and the CPU per call of the server process and of its children (mcp-warden's sandbox workers). It
 * shows how many calls a "warm call" figure needs behind it before it reads the steady state rather than
 * the start-up's leftovers (JIT compilation, background work, the start-up's garbage).
 *
 *   node bench/settle.ts [--n 250] [--blocks 16] [--other path/to/dist/host/bundle/cli.js]
 *
 * CPU comes from /proc in clock ticks (10 ms): with 250 calls a block it reads in steps of 40 µs.
 */
import { parseArgs } from 'node:util';
import { connect, cpuSpent, disconnect, latency, treeCpuUs } from './harness.ts';
import type { Connected, ServerSpec } from './harness.ts';
import { plainSpec, prepareHome, wardenSpec } from './setup.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '250' },
    blocks: { type: 'string', default: '16' },
    other: { type: 'string' },
  },
});
const n = Number(values.n);
const specs: Record<string, ServerSpec> = {
  warden: wardenSpec(await prepareHome(1, []), []),
  plain: plainSpec(),
};
if (values.other !== undefined) specs.other = wardenSpec(await prepareHome(1, []), [], values.other);
const kinds = Object.keys(specs);
const conns: Record<string, Connected> = {};
for (const k of kinds) conns[k] = await connect(specs[k] as ServerSpec);
for (let b = 0; b < Number(values.blocks); b++) {
  const row: string[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const k = kinds[(i + b) % kinds.length] as string;
    const c = conns[k] as Connected;
    const tool = c.toolNames.find((t) => t.endsWith('echo')) as string;
    const pid = c.transport.pid as number;
    const before = treeCpuUs(pid);
    const s = await latency(c, tool, { text: 'hello' }, n);
    const spent = cpuSpent(before, treeCpuUs(pid));
    row[kinds.indexOf(k)] = `${k} p50 ${Math.round(s.p50)} cpu ${Math.round(spent.self / n)}/${Math.round(spent.children / n)}`;
  }
  process.stdout.write(`calls ${String((b + 1) * n).padStart(5)}: ${row.join(' | ')}\n`);
}
for (const k of kinds) await disconnect(conns[k] as Connected);
