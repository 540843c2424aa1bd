/** `mcp-warden init DIR`: scaffolds a tool package (TypeScript, manifest, esbuild bundle, test). */
import { resolve } from 'node:path';
import { HostError } from '../errors.ts';
import { scaffold } from '../init/scaffold.ts';
import { parseFlags, runCommand, writeJson } from './cli-support.ts';
import type { CommandIO } from './io.ts';

export const USAGE = `Usage: mcp-warden init DIR [--json]

Creates a tool package in DIR (which must not exist or be empty): package.json with the mcpWarden
manifest (one "greet" tool, no capabilities), src/index.ts typed with the sandbox API
(types/tool-api.d.ts), an esbuild build that bundles src/ into the single entry file dist/index.js, and a
test. Then: cd DIR && npm install && npm test, and "mcp-warden serve --dev DIR" to try it.

Options:
  --json   machine-readable output
  --help   show this help
`;

const OPTIONS = { json: { type: 'boolean' }, help: { type: 'boolean' } } as const;

export function run(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, 'init', USAGE, argv, async (json) => {
    const { positionals } = parseFlags(argv, OPTIONS);
    if (positionals.length !== 1) throw new HostError('USAGE', 'expected exactly one directory');
    const dir = resolve(io.cwd, positionals[0] as string);
    const r = await scaffold(dir);
    if (json) writeJson(io, { ok: true, dir, ...r });
    else io.stdout.write(`created ${r.name} in ${dir}\n${r.files.map((f) => `  ${f}`).join('\n')}\nnext: cd ${positionals[0]} && npm install && npm test, then mcp-warden serve --dev ${positionals[0]}\n`);
    return 0;
  });
}
