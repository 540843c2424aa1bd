// Baseline 2, on the MCP TypeScript SDK v2 (@modelcontextprotocol/server): the low-level `Server` with
// tools/list and tools/call handlers, as low-level-server.mjs, running the same tool logic in-process with
// no validation beyond the SDK's own. bench/run.ts switches to it with the host's move to SDK v2. Plain JavaScript.
// Usage: node bench/baselines/low-level-server-v2.mjs [--packages N]
import process from 'node:process';
import { parseArgs } from 'node:util';
import { Server } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import tools from '../package/index.js';

const { values } = parseArgs({ args: process.argv.slice(2), options: { packages: { type: 'string', default: '1' } } });
const count = Number(values.packages);
const ctx = { fetch: globalThis.fetch };

const toolList = [];
for (let p = 0; p < count; p++) {
  for (const name of Object.keys(tools)) {
    toolList.push({ name: `bench${p}__${name}`, description: `bench tool ${name}`, inputSchema: { type: 'object', additionalProperties: true } });
  }
}

const server = new Server({ name: 'plain-server-bench', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler('tools/list', async () => ({ tools: toolList }));
server.setRequestHandler('tools/call', async (req) => {
  const name = req.params.name.slice(req.params.name.indexOf('__') + 2);
  const handler = tools[name];
  if (handler === undefined) return { isError: true, content: [{ type: 'text', text: 'unknown tool' }] };
  const value = await handler(req.params.arguments ?? {}, ctx);
  return { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }] };
});
await server.connect(new StdioServerTransport());
