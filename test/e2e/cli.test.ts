import { execFileSync, spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, EXAMPLES, childEnv, ensureBuilt, startHost, tempDir } from '../helpers/host.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { env: childEnv(), encoding: 'utf8', input: '' });
}

beforeAll(() => ensureBuilt());

describe('the mcp-warden CLI', () => {
  it('prints its version', () => {
    const r = cli('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('lists its commands with --help', () => {
    const r = cli('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('serve');
  });

  it('refuses an unknown command with exit code 2', () => {
    const r = cli('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command');
  });

  it('refuses an unknown serve option with exit code 2 (a typo must not drop a restriction)', () => {
    const r = cli('serve', '--allow-nett', 'x');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown option --allow-nett');
  });

  it('serve exits cleanly when its client closes stdin', () => {
    const r = cli('serve', '--home', tempDir('cli'));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
  });
});

/** A failure of serve as the user sees it: one line, a documented code, no stack trace, non-zero exit. */
function expectOneLineFailure(r: ReturnType<typeof cli>, code: string, status: number): string {
  expect(r.status).toBe(status);
  const lines = r.stderr.trim().split('\n');
  expect(lines[0]).toMatch(new RegExp(`^mcp-warden serve: ${code}: `));
  expect(lines.length).toBeLessThanOrEqual(2);
  expect(r.stderr).not.toMatch(/\n\s+at |node:internal|Error:/);
  expect(r.stdout).toBe('');
  return lines[0] as string;
}

/** Makes a directory read-only even for root (which ignores modes): chattr +i there, chmod elsewhere. */
function makeReadOnly(dir: string): () => void {
  if (process.getuid?.() === 0) {
    execFileSync('chattr', ['+i', dir]);
    return () => execFileSync('chattr', ['-i', dir]);
  }
  execFileSync('chmod', ['0500', dir]);
  return () => execFileSync('chmod', ['0700', dir]);
}

describe('serve start-up failures (issue 8, item 26)', () => {
  it('refuses --home naming a file: HOME_UNUSABLE, what to do', () => {
    const file = join(tempDir('cli'), 'not-a-dir');
    writeFileSync(file, 'x');
    const line = expectOneLineFailure(cli('serve', '--home', file), 'HOME_UNUSABLE', 1);
    expect(line).toContain(file);
    expect(line).toMatch(/not a directory; choose .*--home/);
  });

  it('refuses a read-only home: HOME_UNUSABLE', () => {
    const home = tempDir('cli-ro');
    const undo = makeReadOnly(home);
    try {
      expect(expectOneLineFailure(cli('serve', '--home', home), 'HOME_UNUSABLE', 1)).toMatch(/not writable|read-only|permission/);
    } finally {
      undo();
    }
  });

  it('refuses --log-level bogus: USAGE, exit 2', () => {
    expect(expectOneLineFailure(cli('serve', '--home', tempDir('cli'), '--log-level', 'bogus'), 'USAGE', 2)).toMatch(/--log-level expects one of trace, debug, info/);
  });

  it('refuses a --log-file it cannot open: LOG_FILE_UNUSABLE', () => {
    const dir = tempDir('cli');
    writeFileSync(join(dir, 'file'), '');
    expectOneLineFailure(cli('serve', '--home', tempDir('cli'), '--log-file', join(dir, 'file', 'x.log')), 'LOG_FILE_UNUSABLE', 1);
  });

  it('says which home it looked in when there is nothing to serve', () => {
    const home = tempDir('cli-empty');
    const r = cli('serve', '--home', home);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`no packages to serve in the home ${home}`);
  });
});

describe('serve logs and shutdown (issue 8, items 25 and 30)', () => {
  it('creates a --log-file in a missing directory (0700), the file 0600, and logs into it', () => {
    const dir = join(tempDir('cli'), 'logs', 'nested');
    const r = cli('serve', '--home', tempDir('cli'), '--log-file', join(dir, 'serve.log'));
    expect(r.status).toBe(0);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'serve.log')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'serve.log')).size).toBeGreaterThan(0);
  });

  it('makes the audit log and key 0600', () => {
    const home = tempDir('cli');
    expect(cli('serve', '--home', home).status).toBe(0);
    expect(statSync(join(home, 'audit.log')).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'audit.key')).mode & 0o777).toBe(0o600);
  });

  it('shuts down after calls without a warning', async () => {
    const h = await startHost({ args: ['--dev', join(EXAMPLES, 'text-tools')] });
    expect((await h.client.callTool({ name: 'text-tools__sha256', arguments: { text: 'x' } })).isError).toBeFalsy();
    await h.close();
    expect(h.stderr()).toContain('"msg":"stopped"');
    expect(h.stderr()).not.toContain('"level":40');
  });

  it('answers initialize before the installed packages are verified; tools/list waits for them', async () => {
    const home = tempDir('cli-lazy');
    // lock.json as a FIFO: reading it (the start of verification) blocks until the test writes the lock.
    execFileSync('mkfifo', [join(home, 'lock.json')]);
    const h = await startHost({ home, args: ['--dev', join(EXAMPLES, 'text-tools')] });
    try {
      // Connected: initialize was answered while verification is blocked (before, connect hung here).
      const list = h.client.listTools();
      await writeFile(join(home, 'lock.json'), JSON.stringify({ version: 1, packages: {} }));
      expect((await list).tools.map((t) => t.name)).toContain('text-tools__sha256');
    } finally {
      await h.close();
    }
  });
});

