/**
 * The home-escape scenario (issue 8, item 7) end to end through the CLI: a package whose write slot
 * could be bound to a directory containing the home (e.g. $HOME) would read the keys and rewrite another
 * installed package and its lock record. No grant may reach the home: refused when it is made (install
 * --grant, grant, serve --grant), the sandbox cannot reach it through a symlink in its grant, and a
 * rewrite of another package and its lock record by whoever can write there is refused at serve.
 */
import { appendFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { cli, cliOk } from '../helpers/cli.ts';
import { startHost, tempDir } from '../helpers/host.ts';
import { digestTree } from '../helpers/installed.ts';
import { snapshotHome } from '../helpers/install-fixtures.ts';

const text = (r: CallToolResult): string => (r.content[0] as { text: string }).text;

/** A package with a write slot "out" and tools that write and read any path it is given. */
function writerPackage(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const schema = { type: 'object', properties: { path: { type: 'string' }, text: { type: 'string' } }, required: ['path'] };
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: '@evil/writer',
      version: '1.0.0',
      mcpWarden: {
        entry: 'index.js',
        tools: [
          { name: 'write', description: 'Writes a file.', inputSchema: schema },
          { name: 'read', description: 'Reads a file.', inputSchema: schema },
        ],
        capabilities: { fs: [{ slot: 'out', access: 'write', description: 'where to write' }] },
      },
    }),
  );
  writeFileSync(
    join(dir, 'index.js'),
    `export default {
  write: async ({ path, text }, ctx) => { await ctx.fs.writeFile(path, text ?? ''); return 'written'; },
  read: async ({ path }, ctx) => ctx.fs.readFile(path, 'utf8'),
};\n`,
  );
  return dir;
}

function notesPackage(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: '@good/notes', version: '1.0.0', mcpWarden: { entry: 'index.js', tools: [{ name: 'hello', description: 'Says hello.', inputSchema: { type: 'object' } }] } }),
  );
  writeFileSync(join(dir, 'index.js'), 'export default { hello: () => "hello from notes" };\n');
  return dir;
}

let work: string;
let user: string;
let home: string;
let writerTgz: string;

beforeAll(async () => {
  work = tempDir('escape');
  user = join(work, 'user');
  home = join(user, '.mcp-warden');
  mkdirSync(join(user, 'work'), { recursive: true, mode: 0o700 });
  await cliOk(['keygen', '--out', 'k'], { cwd: work });
  await cliOk(['trust', 'add-key', 'k.pub', '--name', 'k', '--home', home], { cwd: work });
  const pack = async (dir: string): Promise<string> => {
    const packed = JSON.parse((await cliOk(['pack', dir, '--out', 'dist', '--json'], { cwd: work })).stdout) as { file: string };
    await cliOk(['sign', packed.file, '--key', 'k.key'], { cwd: work });
    return packed.file;
  };
  await cliOk(['install', await pack(notesPackage(join(work, 'notes'))), '--yes', '--home', home], { cwd: work });
  writerTgz = await pack(writerPackage(join(work, 'writer')));
});

describe('no grant reaches the home', () => {
  it.each([
    ['a parent of the home ($HOME)', () => user],
    ['the home itself', () => home],
    ['a directory inside the home', () => join(home, 'packages')],
  ])('install --grant refuses %s (GRANT_COVERS_HOME) and changes nothing', async (_what, target) => {
    const before = snapshotHome(home);
    const r = await cli(['install', writerTgz, '--yes', '--grant', `out=${target()}`, '--home', home, '--json'], { cwd: work });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'GRANT_COVERS_HOME' } });
    expect(snapshotHome(home)).toEqual(before);
  });

  it('grant refuses to re-bind an installed slot to a parent of the home, and serve --grant too', async () => {
    await cliOk(['install', writerTgz, '--yes', '--grant', `out=${join(user, 'work')}`, '--home', home], { cwd: work });
    const before = readFileSync(join(home, 'lock.json'), 'utf8');
    const g = await cli(['grant', '@evil/writer', `out=${user}`, '--home', home], { cwd: work });
    expect(g.code).toBe(1);
    expect(g.stderr).toMatch(/GRANT_COVERS_HOME: .*contains mcp-warden's home/);
    expect(g.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(join(home, 'lock.json'), 'utf8')).toBe(before);

    const devHome = tempDir('escape-dev');
    const h = await startHost({ home: devHome, args: ['--dev', join(work, 'writer'), '--grant', `out=${dirname(devHome)}`] });
    try {
      expect((await h.client.listTools()).tools.map((t) => t.name)).not.toContain('evil.writer__write');
      expect(h.stderr()).toMatch(/REFUSED .*writer: GRANT_COVERS_HOME/);
    } finally {
      await h.close();
    }
  });

  it('the installed writer cannot reach the home through a symlink in its grant, and a rewrite of another package and its record is refused', async () => {
    symlinkSync(home, join(user, 'work', 'h'));
    const lockBefore = readFileSync(join(home, 'lock.json'), 'utf8');
    const h = await startHost({ home });
    try {
      const names = (await h.client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['evil.writer__write', 'good.notes__hello']));
      const call = async (name: string, args: Record<string, unknown>) => (await h.client.callTool({ name, arguments: args })) as CallToolResult;
      // Inside its grant: fine.
      expect(text(await call('evil.writer__write', { path: join(user, 'work', 'ok.txt'), text: 'x' }))).toBe('written');
      // Through the symlink, or by path: the home's key, lock and another package stay out of reach.
      for (const target of [join(user, 'work', 'h', 'lock.json'), join(user, 'work', 'h', 'packages', '@good', 'notes@1.0.0', 'index.js'), join(home, 'lock.json')]) {
        const w = await call('evil.writer__write', { path: target, text: '{}' });
        expect(w.isError).toBe(true);
        expect(text(w)).toMatch(/^CAPABILITY_DENIED/);
      }
      for (const target of [join(user, 'work', 'h', 'audit.key'), join(user, 'work', 'h', 'lock.key'), join(user, 'work', 'h', 'trust.json')]) {
        const r = await call('evil.writer__read', { path: target });
        expect(r.isError).toBe(true);
      }
      expect(readFileSync(join(home, 'lock.json'), 'utf8')).toBe(lockBefore);
    } finally {
      await h.close();
    }

    // Whoever could write there anyway (another process of the user, without the key): swap the other
    // package's code, record the new digests and a wider grant. serve refuses it, after a restart too.
    const notesDir = join(home, 'packages', '@good', 'notes@1.0.0');
    appendFileSync(join(notesDir, 'index.js'), '\nexport const exfiltrate = 1;\n');
    const lock = JSON.parse(lockBefore) as { packages: Record<string, { files: Record<string, string>; grant: { net: string[] } }> };
    const notes = lock.packages['@good/notes'] as { files: Record<string, string>; grant: { net: string[] } };
    notes.files = digestTree(notesDir);
    notes.grant.net = ['https://attacker.example'];
    writeFileSync(join(home, 'lock.json'), JSON.stringify(lock));
    const again = await startHost({ home });
    try {
      const names = (await again.client.listTools()).tools.map((t) => t.name);
      expect(names).not.toContain('good.notes__hello');
      expect(names).toContain('evil.writer__write');
      expect(again.stderr()).toMatch(/REFUSED @good\/notes: INTEGRITY_MISMATCH: .*lock\.json record/);
    } finally {
      await again.close();
    }
  });
});
