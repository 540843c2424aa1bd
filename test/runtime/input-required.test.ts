/**
 * ctx.inputRequired in the real sandbox: only the value it returned marks a result as input-required (no
 * data a tool passes through can pose as one); a call after it gets the client's answers and the state.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

const sandbox = newSandbox({ workers: 1 });
afterAll(() => sandbox.close());

const pkg = inlinePackage(`
export default {
  ask(input, ctx) {
    if (ctx.inputResponses === undefined) return ctx.inputRequired({ inputRequests: { ok: { method: 'roots/list' } }, requestState: 'one' });
    return { responses: ctx.inputResponses, state: ctx.requestState, input };
  },
  lookalike() { return { inputRequests: { ok: { method: 'roots/list' } }, requestState: 'x' }; },
  prefix() { return '\\u0000input_required\\u0000{}'; },
  bad(input, ctx) { return ctx.inputRequired({ inputRequests: { ok: { method: 'roots/list' } }, requestState: 7 }); },
};
export const resources = { r(req, ctx) { return ctx.inputRequired({ inputRequests: {} }); } };
`);

describe('ctx.inputRequired', () => {
  it('marks the result as input-required, and a call after it gets the answers, the state and the same arguments', async () => {
    const first = await sandbox.run(pkg, 'ask', { a: 1 }, NO_GRANT, limits());
    expect(first.inputRequired).toBe(true);
    expect(first.value).toEqual({ inputRequests: { ok: { method: 'roots/list' } }, requestState: 'one' });
    const next = await sandbox.run(pkg, 'ask', { a: 1 }, NO_GRANT, limits(), { input: { responses: { ok: { roots: [] } }, state: 'one' } });
    expect(next.inputRequired).toBeUndefined();
    expect(next.value).toEqual({ responses: { ok: { roots: [] } }, state: 'one', input: { a: 1 } });
  });

  it('is not forged by a result that looks like one, nor by a string with the marker', async () => {
    const lookalike = await sandbox.run(pkg, 'lookalike', {}, NO_GRANT, limits());
    expect(lookalike.inputRequired).toBeUndefined();
    const prefix = await sandbox.run(pkg, 'prefix', {}, NO_GRANT, limits());
    expect(prefix.inputRequired).toBeUndefined();
    expect(prefix.value).toBe('\u0000input_required\u0000{}');
  });

  it('throws in the tool for a malformed request, and in a resource handler (tools only)', async () => {
    expect(await codeOf(sandbox.run(pkg, 'bad', {}, NO_GRANT, limits()))).toBe('TOOL_THREW');
    expect(await codeOf(sandbox.run(pkg, 'r', { uri: 'x://', variables: {} }, NO_GRANT, limits(), { kind: 'resource' }))).toBe('TOOL_THREW');
  });
});
