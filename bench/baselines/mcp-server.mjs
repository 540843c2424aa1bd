// Baseline 1: a plain, unsandboxed MCP server with the SDK's high-level McpServer and zod input schemas
// (the same @modelcontextprotocol/sdk and zod versions as mcp-warden), running the same tool logic
// (bench/package/index.js) in-process. Plain JavaScript, so it pays no type stripping at start-up.
// Usage: node bench/baselines/mcp-server.mjs [--packages N]
import process from 'node:process';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import tools from '../package/index.js';

const { values } = parseArgs({ args: process.argv.slice(2), options: { packages: { type: 'string', default: '1' } } });
const count = Number(values.packages);
// The input schemas of bench/package/package.json, in zod.
const shapes = {
  echo: { text: z.string() },
  transform: { json: z.string().max(1_000_000) },
  rows: { n: z.number().int().min(0).max(100_000) },
  fetchJson: { url: z.string() },
};
const ctx = { fetch: globalThis.fetch };

const server = new McpServer({ name: 'plain-mcp-bench', version: '1.0.0' });
for (let p = 0; p < count; p++) {
  for (const [name, shape] of Object.entries(shapes)) {
    const handler = tools[name];
    server.registerTool(`bench${p}__${name}`, { description: `bench tool ${name}`, inputSchema: shape }, async (args) => {
      const value = await handler(args, ctx);
      return { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }] };
    });
  }
}
await server.connect(new StdioServerTransport());
