/**
 * The runtime's server entry (kind "rpc", runtime/entry-name.ts) in a real sandbox: the message crosses
 * as the JSON text the host made, the answer must be JSON text, and it reaches only the module's
 * `mcpServer` export; module state (the server) stays warm between calls of one isolate.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SERVER_ENTRY_HANDLER } from '../../../runtime/index.ts';
import { NO_GRANT, codeOf, inlinePackage, limits, newSandbox } from '../../helpers/sandbox.ts';

const sandbox = newSandbox({ workers: 1 });
afterAll(() => sandbox.close());

const SERVER = inlinePackage(`
  let calls = 0;
  export const mcpServer = {
    message(json) {
      if (typeof json !== 'string') return JSON.stringify({ wrong: typeof json });
      const msg = JSON.parse(json);
      calls++;
      if (msg.method === 'object') return { not: 'text' };
      if (msg.method === 'garbage') return '{not json';
      return JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { echoed: json, calls } });
    },
  };
`);

const rpc = (pkg: typeof SERVER, message: unknown) => sandbox.run(pkg, SERVER_ENTRY_HANDLER, message, NO_GRANT, limits({ cpuMs: 2000, wallMs: 10_000 }), { kind: 'rpc' });

describe('the server entry kind', () => {
  it('passes the message as JSON text and keeps the server warm between calls', async () => {
    const first = await rpc(SERVER, { jsonrpc: '2.0', id: 7, method: 'tools/list' });
    expect(first.value).toEqual({ jsonrpc: '2.0', id: 7, result: { echoed: '{"jsonrpc":"2.0","id":7,"method":"tools/list"}', calls: 1 } });
    const second = await rpc(SERVER, { jsonrpc: '2.0', id: 8, method: 'ping' });
    expect((second.value as { result: { calls: number } }).result.calls).toBe(2);
  });

  it('refuses an answer that is not text', async () => {
    expect(await codeOf(rpc(SERVER, { method: 'object' }))).toBe('OUTPUT_INVALID');
  });

  it('refuses an answer that is not JSON', async () => {
    expect(await codeOf(rpc(SERVER, { method: 'garbage' }))).toBe('OUTPUT_INVALID');
  });

  it('reaches only the mcpServer export: a tool call of the same name finds nothing, nor does an rpc call of a tool package', async () => {
    expect(await codeOf(sandbox.run(SERVER, SERVER_ENTRY_HANDLER, {}, NO_GRANT, limits()))).toBe('TOOL_NOT_FOUND');
    const tools = inlinePackage('export default { message: () => "x" };');
    expect(await codeOf(rpc(tools, { method: 'x' }))).toBe('TOOL_NOT_FOUND');
  });
});
