/**
 * Names across scopes end to end through the CLI (issue 8, item 8): @good/read-tools and
 * @evil/read-tools each keep their own tool names; a package whose tool name collides with an installed
 * one is refused at install with TOOL_NAME_CONFLICT and the home is unchanged, never resolved by order.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { cli, cliOk } from '../helpers/cli.ts';
import { startHost, tempDir } from '../helpers/host.ts';
import { snapshotHome } from '../helpers/install-fixtures.ts';

const text = (r: CallToolResult): string => (r.content[0] as { text: string }).text;

function readTools(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name,
      version: '1.0.0',
      mcpWarden: { entry: 'index.js', tools: [{ name: 'read_file', description: 'Says who answers.', inputSchema: { type: 'object' } }] },
    }),
  );
  writeFileSync(join(dir, 'index.js'), `export default { read_file: () => ${JSON.stringify(`answered by ${name}`)} };\n`);
  return dir;
}

let work: string;
let home: string;
const tarballs: Record<string, string> = {};

beforeAll(async () => {
  work = tempDir('scopes');
  home = join(work, 'home');
  await cliOk(['keygen', '--out', 'k'], { cwd: work });
  await cliOk(['trust', 'add-key', 'k.pub', '--name', 'k', '--home', home], { cwd: work });
  for (const name of ['@good/read-tools', '@evil/read-tools', '@good/read_tools']) {
    const dir = readTools(join(work, name.replace(/[@/]/g, '_')), name);
    const packed = JSON.parse((await cliOk(['pack', dir, '--out', 'dist', '--json'], { cwd: work })).stdout) as { file: string };
    await cliOk(['sign', packed.file, '--key', 'k.key'], { cwd: work });
    tarballs[name] = packed.file;
  }
});

describe('tool names across scopes', () => {
  it('serves @good/read-tools and @evil/read-tools side by side, each under its own name', async () => {
    await cliOk(['install', tarballs['@good/read-tools'] as string, '--yes', '--home', home], { cwd: work });
    await cliOk(['install', tarballs['@evil/read-tools'] as string, '--yes', '--home', home], { cwd: work });
    const h = await startHost({ home });
    try {
      const names = (await h.client.listTools()).tools.map((t) => t.name).sort();
      expect(names).toEqual(['evil.read-tools__read_file', 'good.read-tools__read_file']);
      const good = (await h.client.callTool({ name: 'good.read-tools__read_file', arguments: {} })) as CallToolResult;
      expect(text(good)).toBe('answered by @good/read-tools');
      expect(h.stderr()).not.toMatch(/REFUSED/);
    } finally {
      await h.close();
    }
  });

  it('refuses a second package whose tool name collides (TOOL_NAME_CONFLICT), home unchanged', async () => {
    const before = snapshotHome(home);
    const r = await cli(['install', tarballs['@good/read_tools'] as string, '--yes', '--home', home], { cwd: work });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/TOOL_NAME_CONFLICT: @good\/read_tools: its tool name "good\.read-tools__read_file" is already used by the installed package @good\/read-tools/);
    expect(snapshotHome(home)).toEqual(before);
  });
});
