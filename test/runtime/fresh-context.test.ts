import { afterAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../runtime/index.ts';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// A package with a fresh context per call, in a real isolate in a real worker: whatever one call leaves
// behind must be invisible to every other call of it.
const source = `let moduleState = 0;
export default {
  leave: () => {
    moduleState++;
    globalThis.planted = 'left behind';
    Array.prototype.extra = 'patched';
    Object.prototype.polluted = true;
    JSON.stringify = () => 'hijacked';
    return moduleState;
  },
  look: () => ({
    moduleState,
    planted: typeof globalThis.planted,
    arrayExtra: typeof [].extra,
    polluted: typeof ({}).polluted,
    stringify: JSON.stringify({ a: 1 }),
  }),
  // Plants its mark, then waits (on a host timer) so that the other call runs meanwhile, then reports
  // whether it sees the other's mark.
  meet: async ({ me, other }) => {
    globalThis.mark = me;
    Object.prototype.owner = me;
    await new Promise((r) => setTimeout(r, 50));
    return { sawOther: globalThis.mark !== me || ({}).owner !== me, otherGlobal: typeof globalThis[other] };
  },
  memoryBomb: () => { const a = []; for (let i = 0; ; i++) a.push(new Array(1e6).fill(i)); },
}`;

const clean = { moduleState: 0, planted: 'undefined', arrayExtra: 'undefined', polluted: 'undefined', stringify: '{"a":1}' };

let sandbox: Sandbox;
afterAll(async () => {
  await sandbox?.close();
});

describe('a fresh context per call', () => {
  sandbox = newSandbox();
  const L = limits({ cpuMs: 20_000, wallMs: 30_000, memoryMb: 32 });

  it('hides the globals, patched built-in prototypes and module state a call leaves from the next call', async () => {
    const pkg = inlinePackage(source, { freshContextPerCall: true });
    expect((await sandbox.run(pkg, 'look', {}, NO_GRANT, L)).value).toEqual(clean);
    expect((await sandbox.run(pkg, 'leave', {}, NO_GRANT, L)).value).toBe(1);
    expect((await sandbox.run(pkg, 'leave', {}, NO_GRANT, L)).value).toBe(1);
    // Enough calls to go through the contexts prepared ahead of time and those made afterwards.
    for (let i = 0; i < 6; i++) {
      await sandbox.run(pkg, 'leave', {}, NO_GRANT, L);
      expect((await sandbox.run(pkg, 'look', {}, NO_GRANT, L)).value).toEqual(clean);
    }
  });

  it('keeps the state of a warm package between calls (the contrast)', async () => {
    const pkg = inlinePackage(source);
    await sandbox.run(pkg, 'leave', {}, NO_GRANT, L);
    expect((await sandbox.run(pkg, 'look', {}, NO_GRANT, L)).value).toMatchObject({ moduleState: 1, planted: 'string', arrayExtra: 'string' });
  });

  it('gives concurrent calls contexts of their own', async () => {
    const pkg = inlinePackage(source, { freshContextPerCall: true });
    const [a, b] = await Promise.all([
      sandbox.run(pkg, 'meet', { me: 'a', other: 'b' }, NO_GRANT, L),
      sandbox.run(pkg, 'meet', { me: 'b', other: 'a' }, NO_GRANT, L),
    ]);
    expect(a.value).toEqual({ sawOther: false, otherGlobal: 'undefined' });
    expect(b.value).toEqual({ sawOther: false, otherGlobal: 'undefined' });
    expect((await sandbox.run(pkg, 'look', {}, NO_GRANT, L)).value).toEqual(clean);
  });

  it('serves many calls of a package whose bundle holds much memory without passing its heap limit', async () => {
    // Released contexts are collected lazily: the isolate serving them must be retired in time.
    const heavy = inlinePackage(
      `const held = Array.from({ length: 50000 }, (_, i) => ({ i })); let n = 0;
       export default { count: () => ({ n: ++n, held: held.length }) }`,
      { freshContextPerCall: true },
    );
    const seen = [];
    for (let i = 0; i < 80; i++) seen.push((await sandbox.run(heavy, 'count', {}, NO_GRANT, L)).value);
    expect(seen).toEqual(Array.from({ length: 80 }, () => ({ n: 1, held: 50000 })));
  });

  it('stops a memory bomb with SANDBOX_MEMORY_LIMIT, and the next call works in a clean context', async () => {
    const pkg = inlinePackage(source, { freshContextPerCall: true });
    await sandbox.run(pkg, 'leave', {}, NO_GRANT, L);
    expect(await codeOf(sandbox.run(pkg, 'memoryBomb', {}, NO_GRANT, L))).toBe('SANDBOX_MEMORY_LIMIT');
    expect((await sandbox.run(pkg, 'look', {}, NO_GRANT, L)).value).toEqual(clean);
    expect(await codeOf(sandbox.run(pkg, 'memoryBomb', {}, NO_GRANT, L))).toBe('SANDBOX_MEMORY_LIMIT');
    expect((await sandbox.run(pkg, 'look', {}, NO_GRANT, L)).value).toEqual(clean);
  });
});
