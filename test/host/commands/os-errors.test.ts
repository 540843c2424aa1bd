/**
 * Failures of the operating system reach the user as one line with a documented code and what to do,
 * never as `INTERNAL: ENOSPC: …` (issue 8, item 26). Real failures, made with what a test can create
 * even as root: /dev/full (no space), sysfs (no permission), a file used as a directory, an existing
 * output; and a path under /proc where Node's recursive mkdir would spin forever.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as init from '../../../host/commands/init.ts';
import * as keygen from '../../../host/commands/keygen.ts';
import * as packCommand from '../../../host/commands/pack.ts';
import { osErrorToHostError } from '../../../host/commands/os-errors.ts';
import * as sign from '../../../host/commands/sign.ts';
import { runCommandModule } from '../../helpers/run-command.ts';
import { tempDir, writeToolPackage } from '../../helpers/tool-package.ts';

let work: string;
let tarball: string;

beforeAll(async () => {
  work = tempDir('mcpw-oserr-');
  writeFileSync(join(work, 'afile'), 'a file, not a directory\n');
  writeToolPackage(join(work, 'pkg'), '@acme/echo', '1.0.0');
  const p = await runCommandModule(packCommand, ['pkg', '--out', 'out', '--json'], { cwd: work });
  tarball = (JSON.parse(p.stdout) as { file: string }).file;
  expect((await runCommandModule(keygen, ['--out', 'k'], { cwd: work })).code).toBe(0);
});

async function fails(mod: Parameters<typeof runCommandModule>[0], argv: string[]): Promise<{ code: number; line: string; error: { code: string; message: string } }> {
  const r = await runCommandModule(mod, [...argv, '--json'], { cwd: work });
  const text = await runCommandModule(mod, argv, { cwd: work });
  return { code: r.code, line: text.stderr, error: (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error };
}

describe('OS failures of the commands', () => {
  it('no space left (a bundle written to /dev/full): DISK_FULL', async () => {
    const r = await fails(sign, [tarball, '--key', 'k.key', '--bundle', '/dev/full']);
    expect(r.error.code).toBe('DISK_FULL');
    expect(r.error.message).toMatch(/no space left.*free some space/i);
    expect(r.code).toBe(1);
    // One line, no stack, never INTERNAL.
    expect(r.line.trimEnd().split('\n')).toHaveLength(1);
    expect(r.line).toMatch(/^mcp-warden sign: DISK_FULL: /);
  });

  it('a directory the user may not write (sysfs, even as root): PERMISSION_DENIED', async () => {
    const r = await fails(sign, [tarball, '--key', 'k.key', '--bundle', '/sys/mcpw-bundle.json']);
    expect(r.error.code).toBe('PERMISSION_DENIED');
    expect(r.error.message).toContain('/sys/mcpw-bundle.json');
    const i = await fails(init, ['/sys/mcpw-tool']);
    expect(i.error.code).toBe('PERMISSION_DENIED');
  });

  it('a file used as a directory: PATH_INVALID (not a directory)', async () => {
    const r = await fails(init, ['afile/tool']);
    expect(r.error.code).toBe('PATH_INVALID');
    expect(r.error.message).toMatch(/not a directory/);
    const s = await fails(sign, [tarball, '--key', 'k.key', '--bundle', 'afile/b.json']);
    expect(s.error.code).toBe('PATH_INVALID');
  });

  it('an output directory that exists as a file: PATH_INVALID', async () => {
    const r = await fails(packCommand, ['pkg', '--out', 'afile']);
    expect(r.error.code).toBe('PATH_INVALID');
    expect(r.error.message).toMatch(/not a directory/);
  });

  it('an existing key without --force: PATH_INVALID naming --force', async () => {
    const r = await fails(keygen, ['--out', 'k']);
    expect(r.error.code).toBe('PATH_INVALID');
    expect(r.error.message).toContain('--force');
  });

  it('an output directory under /proc: PATH_INVALID at once (Node\'s recursive mkdir would spin there)', async () => {
    const r = await fails(packCommand, ['pkg', '--out', '/proc/mcpw-out/x']);
    expect(r.error.code).toBe('PATH_INVALID');
  });

  it('a keygen prefix inside a file: PATH_INVALID', async () => {
    mkdirSync(join(work, 'd'), { recursive: true });
    const r = await fails(keygen, ['--out', 'afile/key']);
    expect(r.error.code).toBe('PATH_INVALID');
  });
});

describe('osErrorToHostError', () => {
  const os = (code: string, syscall = 'open', path = '/x/y'): Error => Object.assign(new Error(`${code}: boom, ${syscall} '${path}'`), { code, syscall, path });
  it.each([
    ['ENOSPC', 'DISK_FULL'],
    ['EDQUOT', 'DISK_FULL'],
    ['EROFS', 'READ_ONLY'],
    ['EACCES', 'PERMISSION_DENIED'],
    ['EPERM', 'PERMISSION_DENIED'],
    ['ENOTDIR', 'PATH_INVALID'],
    ['EISDIR', 'PATH_INVALID'],
    ['EEXIST', 'PATH_INVALID'],
    ['ENOENT', 'PATH_INVALID'],
    ['ENAMETOOLONG', 'PATH_INVALID'],
    ['ELOOP', 'PATH_INVALID'],
    ['EIO', 'IO_FAILED'],
    ['EMFILE', 'IO_FAILED'],
  ])('maps %s to %s, naming the path', (errno, code) => {
    const e = osErrorToHostError(os(errno));
    expect(e?.code).toBe(code);
    expect(e?.message).toContain('/x/y');
  });

  it('leaves anything that is not an OS error alone (a true bug stays INTERNAL)', () => {
    expect(osErrorToHostError(new TypeError('x is undefined'))).toBeUndefined();
    expect(osErrorToHostError(Object.assign(new Error('x'), { code: 'ERR_SOMETHING' }))).toBeUndefined();
  });
});
