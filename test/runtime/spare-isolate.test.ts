import { afterAll, describe, expect, it } from 'vitest';
import { PackageIsolate } from '../../runtime/isolate.ts';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// A worker keeps an isolate prepared ahead (its bootstrap evaluated, no package): a package's first call
// takes it and only evaluates its bundle (issue 14, the cold call). It must be as fresh as a new isolate.
const sandbox = newSandbox({ workers: 1 });
afterAll(() => sandbox.close());

describe('the isolate prepared ahead for a first call', () => {
  it('carries nothing of another package: each package\'s first call sees only its own module state and globals', async () => {
    const source = (name: string) =>
      inlinePackage(`let n = 0; const seen = typeof globalThis.leak; globalThis.leak = '${name}';
        export default { count: () => ({ n: ++n, seen }) }`);
    // Two: a third would outgrow the worker's memory ceiling and replace it (losing the warm isolates).
    const packages = [source('a'), source('b')];
    for (const pkg of packages) {
      const r = await sandbox.run(pkg, 'count', {}, NO_GRANT, limits());
      expect(r.value).toEqual({ n: 1, seen: 'undefined' });
    }
    // And each keeps its own warm isolate afterwards.
    for (const pkg of packages) expect((await sandbox.run(pkg, 'count', {}, NO_GRANT, limits())).value).toEqual({ n: 2, seen: 'undefined' });
  });

  it('serves only a package with its heap limit: a smaller limit still stops a package at that limit', async () => {
    const bomb = inlinePackage(`export default { grow() { const a = []; for (let i = 0; i < 200; i++) a.push(new Array(65536).fill(i)); return a.length; } }`);
    // ~100 MB of arrays: over a 16 MiB heap, under nothing this test could be given by mistake but 64 MiB+.
    // CPU to spare, as every memory bomb's test: the limit under test is the heap's (README.md, *Testing under load*).
    expect(await codeOf(sandbox.run(bomb, 'grow', {}, NO_GRANT, limits({ memoryMb: 16, cpuMs: 20_000, wallMs: 30_000 })))).toBe('SANDBOX_MEMORY_LIMIT');
    const fine = inlinePackage('export default { ok: () => "ok" }');
    expect((await sandbox.run(fine, 'ok', {}, NO_GRANT, limits())).value).toBe('ok');
  });

  it('is not used by a package whose bundle fails to load in a way that spoils the next one', async () => {
    const broken = inlinePackage('export default { x: ( }');
    expect(await codeOf(sandbox.run(broken, 'x', {}, NO_GRANT, limits()))).toBe('PACKAGE_LOAD_FAILED');
    const next = inlinePackage('export default { ok: () => typeof globalThis.leak }');
    expect((await sandbox.run(next, 'ok', {}, NO_GRANT, limits())).value).toBe('undefined');
  });

  it('has run a call through the bootstrap before a package takes it, and posted nothing of it to the worker', async () => {
    const posts: string[] = [];
    const prepared = await PackageIsolate.prepare(16, { onPost: (kind) => posts.push(kind), onCatastrophic: () => undefined });
    try {
      expect(prepared.warmedUp).toBe(true);
      expect(posts).toEqual([]);
      // What a package's call posts still reaches the worker.
      const iso = await prepared.load('export default { hi: () => "hi" }', 'tool:///warm-test/index.js', 1000);
      await iso.dispatch(7, 'tool:hi', { text: '{}' }, '{}', { hostCalls: 10, logBytes: 1000, outputBytes: 1000 }, 1000);
      expect(posts).toEqual(['ok']);
      iso.dispose();
    } finally {
      prepared.dispose();
    }
  });

  it('leaves nothing of its warm-up call a package can see or call', async () => {
    const pkg = inlinePackage(`const atLoad = [typeof globalThis.warden, Object.keys(globalThis).length];
      export default { probe: () => ({ atLoad, during: typeof globalThis.warden }) }`);
    const r = await sandbox.run(pkg, 'probe', {}, NO_GRANT, limits());
    // No call in flight at load (the warm-up's is over); during a call, only that call's.
    expect(r.value).toEqual({ atLoad: ['undefined', 0], during: 'object' });
    expect(await codeOf(sandbox.run(pkg, 'warmUp', {}, NO_GRANT, limits()))).toBe('TOOL_NOT_FOUND');
  });

  it('compiles its bootstrap from the code cache the process made, and runs it the same', async () => {
    const hooks = { onPost: () => undefined, onCatastrophic: () => undefined };
    // The first isolate of the process may have made the cache; the next one uses it.
    (await PackageIsolate.prepare(16, hooks)).dispose();
    const prepared = await PackageIsolate.prepare(16, hooks);
    try {
      expect(prepared.bootstrapCached).toBe(true);
      expect(prepared.warmedUp).toBe(true);
    } finally {
      prepared.dispose();
    }
    // And a package in an isolate made so sees the bootstrap's globals as ever.
    const pkg = inlinePackage('export default { kinds: () => [typeof fetch, typeof TextEncoder, typeof setTimeout, typeof URL] }');
    expect((await sandbox.run(pkg, 'kinds', {}, NO_GRANT, limits())).value).toEqual(['function', 'function', 'function', 'function']);
  });
});
