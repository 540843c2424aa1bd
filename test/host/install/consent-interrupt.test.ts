/**
 * Ctrl-C at install's consent prompt, on a real pseudo-terminal: the home's writer lock is released, so
 * the next install runs at once (no stale install.lock left behind).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { MUTEX_FILE } from '../../../host/home/mutex.ts';
import { CLI, ensureBuilt } from '../../helpers/host.ts';
import { testHome } from '../../helpers/home-fixture.ts';
import { packEcho, signedWithKey, writeSigned } from '../../helpers/install-fixtures.ts';
import { cliOk } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tool-package.ts';

// Runs argv on a pty, prints PROMPT once "[y/N]" is shown, waits for a line on stdin, then types Ctrl-C
// (the terminal turns it into SIGINT for the foreground process) and prints how the process ended.
const PTY_DRIVER = `
import os, pty, select, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
buf = b''
while b'[y/N]' not in buf:
    r, _, _ = select.select([fd], [], [], 120)
    if not r:
        print('TIMEOUT', flush=True); sys.exit(3)
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        chunk = b''
    if not chunk:
        print('EOF', buf.decode(errors='replace').replace('\\n', ' '), flush=True); sys.exit(4)
    buf += chunk
print('PROMPT', flush=True)
sys.stdin.readline()
os.write(fd, b'\\x03')
_, status = os.waitpid(pid, 0)
print('SIGNAL' if os.WIFSIGNALED(status) else 'EXIT', os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status), flush=True)
`;

const hasPython = spawnSync('python3', ['-c', 'import pty'], { stdio: 'ignore' }).status === 0;

describe('install interrupted at the consent prompt', () => {
  it.skipIf(!hasPython)('releases the home lock on Ctrl-C', async () => {
    ensureBuilt();
    const t = await testHome();
    const work = tempDir('mcpw-sigint-');
    const tarball = await packEcho('echo', '1.0.0');
    const file = writeSigned(work, 'echo-1.0.0.tgz', tarball, signedWithKey(tarball, t.key.privateKey));
    const driver = spawn('python3', ['-c', PTY_DRIVER, process.execPath, CLI, 'install', file, '--home', t.home.dir], { stdio: ['pipe', 'pipe', 'inherit'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, TERM: 'dumb' } });
    const lines = createInterface({ input: driver.stdout });
    const queue: string[] = [];
    const waiting: ((l: string) => void)[] = [];
    lines.on('line', (l) => (waiting.length > 0 ? (waiting.shift() as (l: string) => void)(l) : queue.push(l)));
    const next = (): Promise<string> => new Promise((resolve) => (queue.length > 0 ? resolve(queue.shift() as string) : waiting.push(resolve)));

    expect(await next()).toBe('PROMPT');
    // The prompt is shown with the lock held.
    expect(existsSync(join(t.home.dir, MUTEX_FILE))).toBe(true);
    driver.stdin.write('\n');
    expect(await next()).toBe('SIGNAL 2');
    expect(existsSync(join(t.home.dir, MUTEX_FILE))).toBe(false);
    // Free: the next install runs at once.
    await cliOk(['install', file, '--yes', '--home', t.home.dir], { cwd: work });
  }, 60_000);
});
