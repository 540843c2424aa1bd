import { afterAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../runtime/index.ts';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// Each hostile tool runs in a real isolate in a real worker; after each one the same package must serve
// its next call, on a fresh isolate.
const hostile = inlinePackage(`export default {
  ok: (x) => ({ ok: true, x }),
  syncLoop: () => { while (true) {} },
  microtaskLoop: () => { const f = () => { Promise.resolve().then(f); }; f(); return new Promise(() => {}); },
  awaitLoop: async () => { while (true) { await null; } },
  memoryBomb: () => { const a = []; for (let i = 0; ; i++) a.push(new Array(1e6).fill(i)); },
  hugeResult: () => 'x'.repeat(3e6),
  // Under a 1 MiB output limit in UTF-16 units (what the isolate checks), over it in UTF-8 bytes (the worker).
  hugeInBytes: () => '€'.repeat(500000),
  // 1 000 002 bytes in 600 002 units: under 1 MiB, where three bytes a unit would not be.
  mixedUnderLimit: () => 'x'.repeat(400000) + '€'.repeat(200000),
  deepRecursion: () => { const f = (n) => f(n + 1) + 1; return f(0); },
  neverResolves: () => new Promise(() => {}),
  slow: async (_x, ctx) => { await new Promise((r) => setTimeout(r, 10000)); return 'late'; },
  waiting: async (_x, ctx) => { const p = new Promise((r) => setTimeout(r, 60000)); ctx.log('info', 'waiting'); await p; return 'late'; },
  loopAfterTimer: async () => { await new Promise((r) => setTimeout(r, 5)); while (true) {} },
  cyclicResult: () => { const a = {}; a.self = a; return a; },
  // Loops that start after the result is posted: the call must not succeed while they burn the worker.
  thenLoopAfterResult: () => { const f = () => { Promise.resolve().then(f); }; f(); return 'done'; },
  queueMicrotaskLoopAfterResult: () => { const f = () => queueMicrotask(f); f(); return 'done'; },
  awaitLoopAfterResult: () => { (async () => { while (true) { await null; } })(); return 'done'; },
  bigintResult: () => ({ n: 10n }),
}`);

let sandbox: Sandbox;
afterAll(async () => {
  await sandbox?.close();
});

describe('call limits', () => {
  sandbox = newSandbox();
  // Wall time is generous wherever it is not the limit under test: a loaded machine stretches it.
  const L = limits({ cpuMs: 250, wallMs: 30_000, outputBytes: 1024 * 1024, memoryMb: 32 });
  const wall = limits({ cpuMs: 250, wallMs: 1500 });
  // Each case's limits leave only one of them reachable, so the code is the same on a loaded machine: CPU
  // time is measured (not wall time), and the memory bomb gets CPU and wall time to spare. (The heap limit
  // is the package's, fixed when its isolate is created: 32 MiB for every case here.)
  const cpu = limits({ cpuMs: 250, wallMs: 30_000, memoryMb: 32 });
  const memory = limits({ cpuMs: 20_000, wallMs: 30_000, memoryMb: 32 });

  it.each([
    ['an infinite synchronous loop', 'syncLoop', cpu, 'SANDBOX_CPU_LIMIT'],
    ['an infinite microtask loop', 'microtaskLoop', cpu, 'SANDBOX_CPU_LIMIT'],
    ['an infinite await loop', 'awaitLoop', cpu, 'SANDBOX_CPU_LIMIT'],
    ['a loop that starts after a timer (past the first entry)', 'loopAfterTimer', cpu, 'SANDBOX_CPU_LIMIT'],
    ['a then loop started before the result', 'thenLoopAfterResult', cpu, 'SANDBOX_CPU_LIMIT'],
    ['a queueMicrotask loop started before the result', 'queueMicrotaskLoopAfterResult', cpu, 'SANDBOX_CPU_LIMIT'],
    ['an await loop started before the result', 'awaitLoopAfterResult', cpu, 'SANDBOX_CPU_LIMIT'],
    ['a memory bomb', 'memoryBomb', memory, 'SANDBOX_MEMORY_LIMIT'],
    ['a result over the output limit', 'hugeResult', L, 'OUTPUT_TOO_LARGE'],
    ['a result over the output limit in UTF-8 bytes only', 'hugeInBytes', L, 'OUTPUT_TOO_LARGE'],
    ['a call that never resolves', 'neverResolves', wall, 'SANDBOX_TIMEOUT'],
  ])('stops %s with its code, and the next call succeeds', async (_name, tool, limitsOfCase, code) => {
    expect(await codeOf(sandbox.run(hostile, tool, {}, NO_GRANT, limitsOfCase))).toBe(code);
    await expect(sandbox.run(hostile, 'ok', { n: 1 }, NO_GRANT, L)).resolves.toMatchObject({ value: { ok: true, x: { n: 1 } } });
  });

  it('passes a result under the output limit in UTF-8 bytes that its length alone does not settle', async () => {
    const out = await sandbox.run(hostile, 'mixedUnderLimit', {}, NO_GRANT, L);
    expect(Buffer.byteLength(JSON.stringify(out.value))).toBe(1_000_002);
  });

  it('runs nothing of a call after a loop that follows its result: the isolate is disposed', async () => {
    const pkg = inlinePackage(`export default {
      count: () => { globalThis.n = (globalThis.n ?? 0) + 1; return globalThis.n; },
      loopAfter: () => { const f = () => queueMicrotask(f); f(); return 'done'; },
    }`);
    expect(await codeOf(sandbox.run(pkg, 'count', {}, NO_GRANT, cpu))).toBe('OK');
    expect(await codeOf(sandbox.run(pkg, 'loopAfter', {}, NO_GRANT, cpu))).toBe('SANDBOX_CPU_LIMIT');
    // A fresh isolate: the state of the one that looped is gone.
    await expect(sandbox.run(pkg, 'count', {}, NO_GRANT, cpu)).resolves.toMatchObject({ value: 1 });
  });

  it.each([
    ['a cyclic result', 'cyclicResult'],
    ['a BigInt in the result', 'bigintResult'],
  ])('refuses %s with OUTPUT_INVALID (serialized inside the isolate, never on the host)', async (_name, tool) => {
    expect(await codeOf(sandbox.run(hostile, tool, {}, NO_GRANT, L))).toBe('OUTPUT_INVALID');
    await expect(sandbox.run(hostile, 'ok', 4, NO_GRANT, L)).resolves.toMatchObject({ value: { ok: true, x: 4 } });
  });

  it('reports deep recursion as a tool error, and the next call succeeds', async () => {
    expect(await codeOf(sandbox.run(hostile, 'deepRecursion', {}, NO_GRANT, L))).toBe('TOOL_THREW');
    await expect(sandbox.run(hostile, 'ok', 2, NO_GRANT, L)).resolves.toMatchObject({ value: { ok: true, x: 2 } });
  });

  it('stops a call cancelled mid-flight with CANCELLED, before any of its limits', async () => {
    const ac = new AbortController();
    const started = sandbox.run(hostile, 'waiting', {}, NO_GRANT, limits({ wallMs: 30_000 }), {
      signal: ac.signal,
      // The tool logs once it is waiting: cancel then, not after a guessed delay.
      onLog: () => ac.abort(),
    });
    expect(await codeOf(started)).toBe('CANCELLED');
    await expect(sandbox.run(hostile, 'ok', 3, NO_GRANT, L)).resolves.toMatchObject({ value: { ok: true, x: 3 } });
  });

  it('refuses arguments over the input limit before running anything', async () => {
    const small = limits({ inputBytes: 100 });
    expect(await codeOf(sandbox.run(hostile, 'ok', { s: 'y'.repeat(200) }, NO_GRANT, small))).toBe('INPUT_TOO_LARGE');
  });

  it('queues calls past the per-package concurrency limit and runs them after the running one', async () => {
    const one = limits({ concurrency: 1, wallMs: 1500 });
    const first = codeOf(sandbox.run(hostile, 'slow', {}, NO_GRANT, one));
    expect(await codeOf(sandbox.run(hostile, 'ok', {}, NO_GRANT, one))).toBe('OK');
    expect(await first).toBe('SANDBOX_TIMEOUT');
  });

  it('fails an unknown tool with TOOL_NOT_FOUND', async () => {
    expect(await codeOf(sandbox.run(hostile, 'constructor', {}, NO_GRANT, L))).toBe('TOOL_NOT_FOUND');
    expect(await codeOf(sandbox.run(hostile, 'nope', {}, NO_GRANT, L))).toBe('TOOL_NOT_FOUND');
  });

  it('fails a bundle that does not compile with PACKAGE_LOAD_FAILED', async () => {
    const broken = inlinePackage('export default { x: ( }');
    expect(await codeOf(sandbox.run(broken, 'x', {}, NO_GRANT, L))).toBe('PACKAGE_LOAD_FAILED');
  });

  it('refuses a bundle with imports', async () => {
    const importing = inlinePackage(`import fs from 'node:fs'; export default { x: () => typeof fs }`);
    expect(await codeOf(sandbox.run(importing, 'x', {}, NO_GRANT, L))).toBe('PACKAGE_LOAD_FAILED');
  });

  it('gives a fresh context per call when the package asks for it', async () => {
    const counter = inlinePackage('let n = 0; export default { count: () => ++n }', { freshContextPerCall: true });
    const warm = inlinePackage('let n = 0; export default { count: () => ++n }');
    const fresh = [];
    const kept = [];
    for (let i = 0; i < 3; i++) {
      fresh.push((await sandbox.run(counter, 'count', {}, NO_GRANT, L)).value);
      kept.push((await sandbox.run(warm, 'count', {}, NO_GRANT, L)).value);
    }
    expect(fresh).toEqual([1, 1, 1]);
    expect(kept).toEqual([1, 2, 3]);
  });
});
