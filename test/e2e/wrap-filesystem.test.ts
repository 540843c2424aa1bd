/**
 * @modelcontextprotocol/server-filesystem, wrapped from the registry (pinned by
 * test/fixtures/wrap/server-filesystem.lock.json), its allowed directory mapped to the granted "root"
 * slot: answers as the same server run natively on the same directory; and our grant is the wall beneath
 * its own checks — widening its allowed directories (to "/") or planting a link inside its directory
 * that leads out of it reads nothing outside the grant.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { HostHandle } from '../helpers/host.ts';
import { tempDir } from '../helpers/host.ts';
import { serveWrapped, startNative, texts, wrapAndInstall } from '../host/wrap/e2e-harness.ts';
import type { NativeServer, Wrapped } from '../host/wrap/e2e-harness.ts';

const SPEC = '@modelcontextprotocol/server-filesystem@2026.8.31';
const NS = 'wrapped-server-filesystem__';
const SECRET = 'top secret outside the grant';

/**
 * A listing's entries in name order: the host lists a directory in name order, Node in the file system's
 * order, which is not specified (the comparison is about what is listed, not in which order).
 */
function ordered(tool: string, text: string): string {
  if (tool === 'list_directory') return text.split('\n').sort().join('\n');
  if (tool !== 'directory_tree') return text;
  type Node = { name: string; children?: Node[] };
  const sort = (nodes: Node[]): Node[] => nodes.map((n) => (n.children ? { ...n, children: sort(n.children) } : n)).sort((a, b) => (a.name < b.name ? -1 : 1));
  return JSON.stringify(sort(JSON.parse(text) as Node[]));
}

describe('wrapped @modelcontextprotocol/server-filesystem', () => {
  let w: Wrapped;
  let host: HostHandle;
  let native: NativeServer;
  let root: string;
  beforeAll(async () => {
    w = await wrapAndInstall({ spec: SPEC, lock: 'server-filesystem', grants: { root: 'root' }, wrapArgs: ['--fs', 'root:write:the directory the server works in', '--arg', '${root}'] }, 'fs');
    root = w.dirs.root as string;
    mkdirSync(join(root, 'docs', 'deep'), { recursive: true });
    writeFileSync(join(root, 'docs', 'a.txt'), 'line one\nline two\nline three\n');
    writeFileSync(join(root, 'docs', 'deep', 'b.md'), '# title\nbody\n');
    host = await serveWrapped(w);
    native = await startNative(w.mainFile, [root]);
  });
  afterAll(async () => {
    await host?.close();
    await native?.close();
  });

  const both = async (tool: string, args: Record<string, unknown>): Promise<[CallToolResult, CallToolResult]> => [
    (await host.client.callTool({ name: NS + tool, arguments: args })) as CallToolResult,
    (await native.client.callTool({ name: tool, arguments: args })) as CallToolResult,
  ];

  it('serves the same tools as the native server', async () => {
    const ours = (await host.client.listTools()).tools.map((t) => t.name.slice(NS.length)).sort();
    const theirs = (await native.client.listTools()).tools.map((t) => t.name).sort();
    expect(ours).toEqual(theirs);
  });

  it.each([
    ['list_allowed_directories', {}],
    ['read_text_file', { path: 'docs/a.txt' }],
    ['read_text_file', { path: 'docs/a.txt', head: 2 }],
    ['read_text_file', { path: 'docs/a.txt', tail: 1 }],
    ['read_multiple_files', { paths: ['docs/a.txt', 'docs/deep/b.md', 'docs/missing.txt'] }],
    ['list_directory', { path: 'docs' }],
    ['list_directory_with_sizes', { path: 'docs' }],
    ['directory_tree', { path: 'docs' }],
    ['search_files', { path: '.', pattern: '**/*.md' }],
    ['create_directory', { path: 'made/here' }],
    ['write_file', { path: 'made/here/c.txt', content: 'hello\n' }],
    ['edit_file', { path: 'docs/a.txt', edits: [{ oldText: 'line two', newText: 'line 2' }], dryRun: true }],
    ['read_text_file', { path: '../outside.txt' }],
  ] as Array<[string, Record<string, unknown>]>)('%s %j answers as the native server', async (tool, args) => {
    const resolvedArgs = JSON.parse(JSON.stringify(args).replaceAll('"docs', `"${root}/docs`).replaceAll('"made', `"${root}/made`).replaceAll('"."', `"${root}"`).replaceAll('"../', `"${root}/../`)) as Record<string, unknown>;
    const [ours, theirs] = await both(tool, resolvedArgs);
    expect({ isError: ours.isError ?? false, text: texts(ours).map((t) => ordered(tool, t)) }).toEqual({ isError: theirs.isError ?? false, text: texts(theirs).map((t) => ordered(tool, t)) });
    if (tool !== 'list_directory' && tool !== 'directory_tree') expect(ours.structuredContent).toEqual(theirs.structuredContent);
  });

  it('edits, moves and describes files through the granted directory', async () => {
    const edited = (await host.client.callTool({ name: `${NS}edit_file`, arguments: { path: join(root, 'docs', 'a.txt'), edits: [{ oldText: 'line three', newText: 'line 3' }] } })) as CallToolResult;
    expect(edited.isError ?? false).toBe(false);
    expect(readFileSync(join(root, 'docs', 'a.txt'), 'utf8')).toBe('line one\nline two\nline 3\n');
    const moved = (await host.client.callTool({ name: `${NS}move_file`, arguments: { source: join(root, 'docs', 'deep', 'b.md'), destination: join(root, 'b-moved.md') } })) as CallToolResult;
    expect(moved.isError ?? false).toBe(false);
    expect(readFileSync(join(root, 'b-moved.md'), 'utf8')).toBe('# title\nbody\n');
    const info = (await host.client.callTool({ name: `${NS}get_file_info`, arguments: { path: join(root, 'b-moved.md') } })) as CallToolResult;
    expect(texts(info).join('\n')).toMatch(/size: 13/);
  });

  it('fails read_media_file, which streams with fs.createReadStream, with UNSUPPORTED_API', async () => {
    writeFileSync(join(root, 'pixel.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
    const r = (await host.client.callTool({ name: `${NS}read_media_file`, arguments: { path: join(root, 'pixel.png') } })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(texts(r).join(' ')).toMatch(/UNSUPPORTED_API.*node:fs\.createReadStream/);
  });

  it('reads nothing through a link inside its directory that leads outside the grant', async () => {
    const outside = tempDir('fs-outside');
    writeFileSync(join(outside, 'secret.txt'), SECRET);
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
    const r = (await host.client.callTool({ name: `${NS}read_text_file`, arguments: { path: join(root, 'link.txt') } })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(texts(r).join(' ')).not.toContain(SECRET);
  });
});

describe('wrapped server-filesystem with its allowed directories widened to "/"', () => {
  it('still reads nothing outside the granted directory', async () => {
    const outside = tempDir('fs-widened-outside');
    writeFileSync(join(outside, 'secret.txt'), SECRET);
    const w = await wrapAndInstall({ spec: SPEC, lock: 'server-filesystem', grants: { root: 'root' }, wrapArgs: ['--name', 'wrapped-fs-widened', '--fs', 'root:read', '--arg', '/', '--arg', '${root}', '--arg', outside] }, 'fs-widened');
    writeFileSync(join(w.dirs.root as string, 'inside.txt'), 'inside');
    const host = await serveWrapped(w);
    try {
      const call = (tool: string, args: Record<string, unknown>) => host.client.callTool({ name: `wrapped-fs-widened__${tool}`, arguments: args }) as Promise<CallToolResult>;
      expect(texts(await call('read_text_file', { path: join(w.dirs.root as string, 'inside.txt') }))).toEqual(['inside']);
      for (const path of [join(outside, 'secret.txt'), '/etc/passwd']) {
        const r = await call('read_text_file', { path });
        expect(r.isError).toBe(true);
        expect(texts(r).join(' ')).not.toContain(SECRET);
        expect(texts(r).join(' ')).not.toContain('root:x:0');
      }
      const listed = await call('list_directory', { path: outside });
      expect(listed.isError).toBe(true);
      expect(texts(listed).join(' ')).not.toContain('secret.txt');
    } finally {
      await host.close();
    }
  });
});
