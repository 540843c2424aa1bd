/**
 * The baseline: a plain, unsandboxed MCP server built with the same SDK, running the same tool logic
 * (bench/tools.js) in-process. Nothing is validated beyond what the SDK does; no isolation at all.
 * Usage: node bench/plain-server.ts [--packages N]
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { packages: { type: 'string', default: '1' } } });
const count = Number(values.packages);
type Handler = (input: Record<string, unknown>, ctx: { fetch: typeof fetch }) => unknown;
// The same bundle file mcp-warden runs in its sandbox, imported in-process.
const bundle = (await import(new URL('./package/index.js', import.meta.url).href)) as { default: Record<string, Handler> };
const handlers = bundle.default;

const toolList: { name: string; description: string; inputSchema: { type: 'object'; additionalProperties: boolean } }[] = [];
for (let p = 0; p < count; p++) {
  for (const name of Object.keys(handlers)) {
    toolList.push({ name: `bench${p}__${name}`, description: `bench tool ${name}`, inputSchema: { type: 'object' as const, additionalProperties: true } });
  }
}

const server = new Server({ name: 'plain-bench', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: toolList }));
server.setRequestHandler(CallToolRequestSchema, async (req) => {
  const name = req.params.name.slice(req.params.name.indexOf('__') + 2);
  const handler = handlers[name];
  if (handler === undefined) return { isError: true, content: [{ type: 'text' as const, text: 'unknown tool' }] };
  const value = await handler(req.params.arguments ?? {}, { fetch });
  return { content: [{ type: 'text' as const, text: typeof value === 'string' ? value : JSON.stringify(value) }] };
});
await server.connect(new StdioServerTransport());
