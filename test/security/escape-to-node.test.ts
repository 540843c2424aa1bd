import { afterAll, describe, expect, it } from 'vitest';
import { NO_GRANT, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// Tool code must find nothing of Node or of isolated-vm, whichever way it looks.
const sandbox = newSandbox();
afterAll(() => sandbox.close());

const probe = inlinePackage(`
const tryIt = (f) => { try { const v = f(); return v === undefined ? 'undefined' : typeof v; } catch (e) { return 'threw'; } };
export default {
  globals: () => ({
    process: typeof process,
    require: typeof require,
    Buffer: typeof Buffer,
    module: typeof module,
    setImmediate: typeof setImmediate,
    ctorProcess: tryIt(() => globalThis.constructor.constructor('return process')()),
    fnProcess: tryIt(() => Function('return this.process')()),
    evalProcess: tryIt(() => (0, eval)('process')),
    errorCtorProcess: tryIt(() => new Error().constructor.constructor('return process')()),
  }),
  dynamicImport: async () => { try { await import('node:fs'); return 'imported'; } catch (e) { return 'refused'; } },
  // Everything reachable from the global object and the call context, two levels deep, must be plain JS:
  // no isolated-vm Reference, ExternalCopy or Callback objects (their methods would be a way out).
  walk: (_args, ctx) => {
    const seen = new Set();
    const found = [];
    const bad = ['derefInto', 'applySync', 'copyInto', 'applySyncPromise', 'getSync', 'setSync'];
    const visit = (v, path, depth) => {
      if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v) || depth > 3) return;
      seen.add(v);
      let keys = [];
      try { keys = Reflect.ownKeys(v); } catch { return; }
      for (const k of keys) {
        if (typeof k !== 'string') continue;
        if (bad.includes(k)) found.push(path + '.' + k);
        let child;
        try { const d = Object.getOwnPropertyDescriptor(v, k); child = d && 'value' in d ? d.value : undefined; } catch { continue; }
        visit(child, path + '.' + k, depth + 1);
      }
      try { visit(Object.getPrototypeOf(v), path + '.__proto__', depth + 1); } catch {}
    };
    visit(globalThis, 'globalThis', 0);
    visit(ctx, 'ctx', 0);
    return { found, names: Object.getOwnPropertyNames(globalThis).filter((n) => /ivm|isolated|^reference$|callback|externalcopy|^\\$[0-9]$/i.test(n)) };
  },
};`);

describe('tool code looking for Node', () => {
  it('finds no process, require, Buffer or host timers, by any route', async () => {
    const { value } = await sandbox.run(probe, 'globals', {}, NO_GRANT, limits());
    const found = value as Record<string, string>;
    expect(Object.keys(found)).toHaveLength(9);
    // 'undefined' or 'threw' (a ReferenceError) both mean: nothing there.
    for (const [route, outcome] of Object.entries(found)) expect([route, outcome]).toEqual([route, expect.stringMatching(/^(undefined|threw)$/)]);
  });

  it('cannot import host modules', async () => {
    const { value } = await sandbox.run(probe, 'dynamicImport', {}, NO_GRANT, limits());
    expect(value).toBe('refused');
  });

  it('reaches no isolated-vm object from the global object or its context', async () => {
    const { value } = await sandbox.run(probe, 'walk', {}, NO_GRANT, limits());
    expect(value).toEqual({ found: [], names: [] });
  });
});

describe('tool code that poisons intrinsics before calling the API', () => {
  // If the bootstrap used a patched method on its trusted path, the patch would see its private objects.
  const poison = inlinePackage(`
    const stolen = [];
    const grab = function (...a) { stolen.push(this, ...a); };
    Function.prototype.apply = function (...a) { stolen.push(this); return Reflect.apply(this, a[0], a[1] || []); };
    Object.defineProperty(Object.prototype, 'then', { set(v) { stolen.push(v); }, get() { return undefined; }, configurable: true });
    Promise.prototype.then = (orig => function (a, b) { stolen.push(this); return orig.call(this, a, b); })(Promise.prototype.then);
    Map.prototype.get = (orig => function (k) { stolen.push(this); return orig.call(this, k); })(Map.prototype.get);
    Map.prototype.set = (orig => function (k, v) { stolen.push(v); return orig.call(this, k, v); })(Map.prototype.set);
    JSON.stringify = (orig => function (v) { stolen.push(v); return orig(v); })(JSON.stringify);
    export default {
      go: async (_a, ctx) => {
        await new Promise((r) => setTimeout(r, 1));
        try { await ctx.fs.readFile('/etc/passwd', 'utf8'); } catch {}
        ctx.log('info', 'x');
        const leaked = stolen.filter((v) => v && (typeof v === 'object' || typeof v === 'function'))
          .filter((v) => { try { return ['derefInto', 'applySync', 'resolve', 'reject', 'quota'].some((k) => k in v) } catch { return false; } });
        return { leaked: leaked.length };
      },
    };`);

  it('exposes none of the bootstrap internals', async () => {
    const { value } = await sandbox.run(poison, 'go', {}, NO_GRANT, limits());
    expect(value).toEqual({ leaked: 0 });
  });
});

describe('WebAssembly and shared memory', () => {
  const wasm = inlinePackage(`export default {
    probe: () => ({ wasm: typeof WebAssembly, sab: typeof SharedArrayBuffer, atomics: typeof Atomics }),
  }`);

  it('are absent: WebAssembly.Memory escapes the heap limit, shared memory enables races and timers', async () => {
    const { value } = await sandbox.run(wasm, 'probe', {}, NO_GRANT, limits());
    expect(value).toEqual({ wasm: 'undefined', sab: 'undefined', atomics: 'undefined' });
  });
});
