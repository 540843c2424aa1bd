import { afterAll, describe, expect, it } from 'vitest';
import { RAW_STRING_MIN, frameArgs } from '../../runtime/call-args.ts';
import { NO_GRANT, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

const long = (n: number, unit = 'a"\\\n') => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);

describe('frameArgs', () => {
  it('is the arguments’ JSON when no top-level string is long enough', () => {
    const args = { a: long(RAW_STRING_MIN - 1), n: 1, nested: { s: long(RAW_STRING_MIN * 2) } };
    expect(frameArgs(args, 1 << 20)).toEqual({ text: JSON.stringify(args) });
  });

  it('sends each long top-level string raw after the JSON of the rest, in key order', () => {
    const a = long(RAW_STRING_MIN);
    const b = long(RAW_STRING_MIN * 3, 'é€😀');
    const frame = frameArgs({ a, n: [1, 2], b, z: 'short' }, 1 << 20);
    expect(frame.raw).toEqual([
      ['a', a.length],
      ['b', b.length],
    ]);
    expect(frame.text).toBe('{"a":0,"n":[1,2],"b":0,"z":"short"}' + a + b);
  });

  it('keeps an own "__proto__" key as a key', () => {
    const args = JSON.parse(`{"__proto__":${JSON.stringify(long(RAW_STRING_MIN))},"x":1}`) as Record<string, unknown>;
    const frame = frameArgs(args, 1 << 20);
    expect(frame.raw).toEqual([['__proto__', RAW_STRING_MIN]]);
    expect(frame.text.startsWith('{"__proto__":0,"x":1}')).toBe(true);
  });

  it('leaves a string with a lone surrogate in the JSON (UTF-8 cannot carry it)', () => {
    const args = { s: long(RAW_STRING_MIN) + '\ud800' };
    expect(frameArgs(args, 1 << 20)).toEqual({ text: JSON.stringify(args) });
  });

  it('sends JSON when the arguments could be near the input limit, so that the limit applies to their JSON', () => {
    const args = { s: long(RAW_STRING_MIN * 4) };
    expect(frameArgs(args, 6 * args.s.length + 2 + 3 * '{"s":0}'.length).raw).toHaveLength(1);
    expect(frameArgs(args, 6 * args.s.length).raw).toBeUndefined();
  });

  it('sends anything but a plain object as JSON', () => {
    for (const args of [[long(RAW_STRING_MIN)], long(RAW_STRING_MIN), null, 3, Object.assign(Object.create(null) as object, { s: long(RAW_STRING_MIN) })]) {
      expect(frameArgs(args, 1 << 20)).toEqual({ text: JSON.stringify(args) });
    }
  });
});

describe('a tool call whose long strings travel raw', () => {
  const sandbox = newSandbox({ workers: 1 });
  afterAll(async () => {
    await sandbox.close();
  });
  const pkg = inlinePackage(`export default {
    echo: (input) => ({ keys: Object.keys(input), own: Object.getOwnPropertyNames(input), proto: Object.getPrototypeOf(input) === Object.prototype, json: JSON.stringify(input) }),
  }`);

  it('gets the same arguments as their JSON gives: values, key order, an own "__proto__" key', async () => {
    const text = `{"first":${JSON.stringify(long(RAW_STRING_MIN * 2, 'x"\\\n\t€😀'))},"n":[1,{"k":"v"}],"__proto__":${JSON.stringify(long(RAW_STRING_MIN))},"short":"s","last":${JSON.stringify(long(RAW_STRING_MIN + 1, 'ü'))}}`;
    const args = JSON.parse(text) as Record<string, unknown>;
    const frame = frameArgs(args, 1 << 20);
    expect(frame.raw?.map(([k]) => k)).toEqual(['first', '__proto__', 'last']);
    const viaRaw = await sandbox.run(pkg, 'echo', args, NO_GRANT, limits(), { argsFrame: frame });
    const viaJson = await sandbox.run(pkg, 'echo', args, NO_GRANT, limits());
    expect(viaRaw.value).toEqual(viaJson.value);
    expect(viaRaw.value).toEqual({ keys: ['first', 'n', '__proto__', 'short', 'last'], own: ['first', 'n', '__proto__', 'short', 'last'], proto: true, json: text });
  });

  it('gets them right after an earlier call of its package patched the built-ins they are put back with', async () => {
    const poisoner = inlinePackage(`export default {
      poison: () => {
        Object.defineProperty(Object.prototype, 'get', { value: () => 'poisoned', configurable: true, writable: true });
        Array.prototype[Symbol.iterator] = function* () { yield 'x'; yield 1; };
        return true;
      },
      echo: (input) => ({ json: JSON.stringify(input) }),
    }`);
    await expect(sandbox.run(poisoner, 'poison', {}, NO_GRANT, limits())).resolves.toMatchObject({ value: true });
    const args = { a: long(RAW_STRING_MIN), b: 1 };
    await expect(sandbox.run(poisoner, 'echo', args, NO_GRANT, limits(), { argsFrame: frameArgs(args, 1 << 20) })).resolves.toMatchObject({ value: { json: JSON.stringify(args) } });
  });
});
