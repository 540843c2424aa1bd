import { afterAll, describe, expect, it } from 'vitest';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// A package kept busy by concurrent calls must not be stopped for what its finished calls copied in.
// isolated-vm runs an isolate's queued entries under one HandleScope that closes only when its queue
// empties, so the sandbox lets the queue empty whenever a sixteenth of the heap limit has been copied in
// (runtime/entry-gate.ts): before, a package with calls always queued was stopped with
// SANDBOX_MEMORY_LIMIT once their arguments added up to its heap limit, while it held almost nothing.
const pkg = inlinePackage(`export default {
  // Enough work per call that the calls queued behind it are there when it returns.
  parse: (input) => { let n = 0; for (let i = 0; i < 4; i++) n += JSON.parse(input.json).length; return n; },
}`);

const sandbox = newSandbox({ workers: 1 });
afterAll(async () => {
  await sandbox.close();
});

describe('a package kept busy by concurrent calls', () => {
  // A 16 MiB package: its old generation is 10 MiB (runtime/isolate-entry.ts); 300 calls copy in ~50 MiB.
  const L = limits({ memoryMb: 16, concurrency: 4, cpuMs: 5_000, wallMs: 60_000 });
  const json = JSON.stringify(Array.from({ length: 1800 }, (_, i) => ({ id: i, name: `row-${i}-${'x'.repeat(40)}`, items: [i, i + 1, i + 2] })));

  it('serves 300 calls of ~170 KB arguments, 8 in flight, without a limit firing', async () => {
    const codes = new Map<string, number>();
    let next = 0;
    const lane = async () => {
      while (next < 300) {
        next++;
        const code = await codeOf(sandbox.run(pkg, 'parse', { json }, NO_GRANT, L));
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    expect(Object.fromEntries(codes)).toEqual({ OK: 300 });
  });
});
