// Baseline 2: the SDK's low-level `Server` with ListTools/CallTool handlers (what mcp-warden's host itself
// uses), running the same tool logic (bench/package/index.js) in-process with no validation beyond the
// SDK's own request schemas. Plain JavaScript, so it pays no type stripping at start-up.
// Usage: node bench/baselines/low-level-server.mjs [--packages N]
import process from 'node:process';
import { parseArgs } from 'node:util';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
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
server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: toolList }));
server.setRequestHandler(CallToolRequestSchema, async (req) => {
  const name = req.params.name.slice(req.params.name.indexOf('__') + 2);
  const handler = tools[name];
  if (handler === undefined) return { isError: true, content: [{ type: 'text', text: 'unknown tool' }] };
  const value = await handler(req.params.arguments ?? {}, ctx);
  return { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }] };
});
await server.connect(new StdioServerTransport());
