import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, childEnv, ensureBuilt, tempDir } from '../helpers/host.ts';

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
