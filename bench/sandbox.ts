/**
 * The sandbox alone (not part of `npm run bench`): warm trivial calls through `Sandbox.run` (the host's
 * pool, one worker process, the isolate entry), without MCP, the audit trail or the host's checks; against
 * another build's runtime with `--other`. Each build runs in its own process (a runtime is loaded once per
 * process), the builds taking turns; the p50 of each block is printed.
 *
 *   node bench/sandbox.ts [--n 2000] [--blocks 5] [--runs 3] [--other /path/to/other/checkout/dist/runtime/index.js]
 *
 * Without `--other` it runs this checkout's build (dist/runtime/index.js: `npm run build` first).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    blocks: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
    other: { type: 'string' },
    // Internal: run one build's blocks in this process and print them.
    child: { type: 'string' },
  },
});

interface Runtime {
  createSandbox(options: { workers: number }): {
    run(pkg: object, tool: string, args: unknown, grant: object, limits: object): Promise<unknown>;
    close(): Promise<void>;
  };
  DEFAULT_LIMITS: object;
}

if (values.child !== undefined) {
  const runtime = (await import(pathToFileURL(values.child).href)) as Runtime;
  const sandbox = runtime.createSandbox({ workers: 1 });
  const pkg = { id: 'bench-sandbox', name: 'bench-sandbox', source: 'export default { echo: (input) => ({ echo: input.text }) };' };
  const grant = { net: { rules: [] }, fs: { rules: [] } };
  const limits = { ...runtime.DEFAULT_LIMITS, cpuMs: 1000, wallMs: 10_000 };
  const call = () => sandbox.run(pkg, 'echo', { text: 'hello' }, grant, limits);
  for (let i = 0; i < 500; i++) await call();
  const p50s: number[] = [];
  for (let b = 0; b < Number(values.blocks); b++) {
    const times: number[] = [];
    for (let i = 0; i < Number(values.n); i++) {
      const t = performance.now();
      await call();
      times.push((performance.now() - t) * 1000);
    }
    times.sort((x, y) => x - y);
    p50s.push(Math.round(times[times.length >> 1] as number));
  }
  await sandbox.close();
  process.stdout.write(`${p50s.join(' ')}\n`);
} else {
  const builds: Record<string, string> = { this: join(import.meta.dirname, '..', 'dist', 'runtime', 'index.js') };
  if (values.other !== undefined) builds.other = values.other;
  const names = Object.keys(builds);
  const all: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  for (let r = 0; r < Number(values.runs); r++) {
    for (let i = 0; i < names.length; i++) {
      const k = names[(i + r) % names.length] as string;
      const out = execFileSync(process.execPath, ['--no-node-snapshot', import.meta.filename, '--child', builds[k] as string, '--n', values.n, '--blocks', values.blocks], { encoding: 'utf8' });
      (all[k] as number[]).push(...out.trim().split(' ').map(Number));
    }
  }
  for (const k of names) {
    const v = [...(all[k] as number[])].sort((x, y) => x - y);
    process.stdout.write(`${k.padEnd(6)} Sandbox.run p50 by block, µs: median ${v[v.length >> 1]} [${(all[k] as number[]).join(' ')}]\n`);
  }
}
