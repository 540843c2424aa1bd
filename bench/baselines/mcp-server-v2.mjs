// Baseline 1, on the MCP TypeScript SDK v2 (@modelcontextprotocol/server): the same plain, unsandboxed
// McpServer with zod input schemas as mcp-server.mjs, running the same tool logic in-process. mcp-warden's
// host moves to SDK v2 (issue 9); the bench switches its baselines with it (bench/run.ts, BASELINE_FILE),
// so that the ratios always compare against the SDK the product uses. Plain JavaScript.
// Usage: node bench/baselines/mcp-server-v2.mjs [--packages N]
import process from 'node:process';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';
import tools from '../package/index.js';

const { values } = parseArgs({ args: process.argv.slice(2), options: { packages: { type: 'string', default: '1' } } });
const count = Number(values.packages);
// The input schemas of bench/package/package.json, in zod.
const shapes = {
  echo: z.object({ text: z.string() }),
  transform: z.object({ json: z.string().max(1_000_000) }),
  rows: z.object({ n: z.number().int().min(0).max(100_000) }),
  fetchJson: z.object({ url: z.string() }),
};
const ctx = { fetch: globalThis.fetch };

const server = new McpServer({ name: 'plain-mcp-bench', version: '1.0.0' });
for (let p = 0; p < count; p++) {
  for (const [name, schema] of Object.entries(shapes)) {
    const handler = tools[name];
    server.registerTool(`bench${p}__${name}`, { description: `bench tool ${name}`, inputSchema: schema }, async (args) => {
      const value = await handler(args, ctx);
      return { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }] };
    });
  }
}
await server.connect(new StdioServerTransport());
