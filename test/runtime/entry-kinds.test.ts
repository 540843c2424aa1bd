import { afterAll, describe, expect, it } from 'vitest';
import type { LogEvent } from '../../runtime/api.ts';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// RunOptions.kind selects the default export (tools) or a named export, in a real isolate.
const sandbox = newSandbox();
afterAll(() => sandbox.close());

const pkg = inlinePackage(`
export default { same: () => 'tool' };
export const resources = { same: ({ uri, variables }) => 'resource ' + uri + ' ' + variables.id };
export const prompts = { same: (args) => ({ messages: [{ role: 'user', content: { type: 'text', text: 'prompt ' + args.x } }] }) };
export const completions = { same: ({ argument }) => [argument.value + '1'] };
`);

describe('RunOptions.kind', () => {
  it('runs the handler of that kind, each kind its own map', async () => {
    expect((await sandbox.run(pkg, 'same', {}, NO_GRANT, limits())).value).toBe('tool');
    expect((await sandbox.run(pkg, 'same', {}, NO_GRANT, limits(), { kind: 'tool' })).value).toBe('tool');
    expect((await sandbox.run(pkg, 'same', { uri: 'n://a', variables: { id: 'a' } }, NO_GRANT, limits(), { kind: 'resource' })).value).toBe('resource n://a a');
    expect((await sandbox.run(pkg, 'same', { x: 'y' }, NO_GRANT, limits(), { kind: 'prompt' })).value).toEqual({ messages: [{ role: 'user', content: { type: 'text', text: 'prompt y' } }] });
    expect((await sandbox.run(pkg, 'same', { argument: { name: 'a', value: 'v' }, context: { arguments: {} } }, NO_GRANT, limits(), { kind: 'completion' })).value).toEqual(['v1']);
  });

  it('a missing handler is TOOL_NOT_FOUND, naming its kind', async () => {
    const toolsOnly = inlinePackage(`export default { t: () => 1 };`);
    const e = await sandbox.run(toolsOnly, 'note', {}, NO_GRANT, limits(), { kind: 'resource' }).catch((x: unknown) => x);
    expect((e as { code?: string }).code).toBe('TOOL_NOT_FOUND');
    expect((e as Error).message).toContain('resource handler named note');
  });

  it('a name cannot select another kind: "resource:same" as a tool is not found', async () => {
    expect(await codeOf(sandbox.run(pkg, 'resource:same', {}, NO_GRANT, limits()))).toBe('TOOL_NOT_FOUND');
  });

  it('an own-property check: a handler name from the prototype is not found', async () => {
    expect(await codeOf(sandbox.run(pkg, 'toString', {}, NO_GRANT, limits(), { kind: 'prompt' }))).toBe('TOOL_NOT_FOUND');
  });
});

describe('ctx.log levels', () => {
  it('carries the eight MCP levels, "warn" as "warning", anything else as "info"', async () => {
    const logger = inlinePackage(`export default { t: (_, ctx) => {
      for (const l of ['debug', 'info', 'notice', 'warning', 'warn', 'error', 'critical', 'alert', 'emergency', 'bogus', {}]) ctx.log(l, String(l));
      return 1;
    } };`);
    const logs: LogEvent[] = [];
    await sandbox.run(logger, 't', {}, NO_GRANT, limits(), { onLog: (e) => logs.push(e) });
    expect(logs.map((l) => l.level)).toEqual(['debug', 'info', 'notice', 'warning', 'warning', 'error', 'critical', 'alert', 'emergency', 'info', 'info']);
  });
});
