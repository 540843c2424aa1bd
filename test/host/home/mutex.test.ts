/**
 * The home's writer lock: a live owner is respected, a dead owner's lock is taken over, and the takeover
 * is atomic — three processes racing for one stale lock never both get in. A Ctrl-C at install's
 * consent prompt leaves no lock behind.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { homeLayout } from '../../../host/home/home.ts';
import { MUTEX_FILE, withHomeMutex } from '../../../host/home/mutex.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const TAKER = join(import.meta.dirname, '..', '..', 'helpers', 'mutex-taker.ts');
const DEAD_PID = 2147483646;

describe('withHomeMutex', () => {
  it('refuses while a live process holds the home (HOME_BUSY)', async () => {
    const home = homeLayout(tempDir('mcpw-mutex-'));
    writeFileSync(join(home.dir, MUTEX_FILE), `${process.pid}\n`);
    expect(await asyncCodeOf(() => withHomeMutex(home, async () => 1))).toBe('HOME_BUSY');
    expect(readFileSync(join(home.dir, MUTEX_FILE), 'utf8')).toBe(`${process.pid}\n`);
  });

  it('takes over a lock left by a dead process, and releases it', async () => {
    const home = homeLayout(tempDir('mcpw-mutex-'));
    writeFileSync(join(home.dir, MUTEX_FILE), `${DEAD_PID}\n`);
    expect(await withHomeMutex(home, async () => 'ran')).toBe('ran');
    expect(existsSync(join(home.dir, MUTEX_FILE))).toBe(false);
    expect(await withHomeMutex(home, async () => 'again')).toBe('again');
  });

  it('takes over an empty or torn lock (a full disk while it was written)', async () => {
    const home = homeLayout(tempDir('mcpw-mutex-'));
    writeFileSync(join(home.dir, MUTEX_FILE), '');
    expect(await withHomeMutex(home, async () => 'ran')).toBe('ran');
  });

  it('lets exactly one of three concurrent processes take over a stale lock, every round', async () => {
    const home = tempDir('mcpw-mutex-race-');
    /** The lines a child prints, one at a time, in order. */
    const lineReader = (child: ChildProcess): (() => Promise<string>) => {
      const queued: string[] = [];
      const waiting: ((l: string) => void)[] = [];
      const rl = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      rl.on('line', (l) => (waiting.length > 0 ? (waiting.shift() as (l: string) => void)(l) : queued.push(l)));
      rl.on('close', () => waiting.splice(0).forEach((w) => w('<closed>')));
      return () => new Promise((resolve) => (queued.length > 0 ? resolve(queued.shift() as string) : waiting.push(resolve)));
    };
    for (let round = 0; round < 10; round++) {
      writeFileSync(join(home, MUTEX_FILE), `${DEAD_PID}\n`);
      const children = [0, 1, 2].map(() => spawn(process.execPath, [TAKER, home], { stdio: ['pipe', 'pipe', 'inherit'] }));
      const outs = children.map(lineReader);
      // Everyone is started before anyone tries: the race is on the takeover, not on process start-up.
      expect(await Promise.all(outs.map((next) => next()))).toEqual(['ready', 'ready', 'ready']);
      for (const c of children) c.stdin?.write('go\n');
      const results = await Promise.all(outs.map((next) => next()));
      for (const c of children) c.stdin?.end();
      await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(null) : c.once('exit', resolve)))));
      expect({ round, won: results.filter((r) => r === 'won').length, others: results.filter((r) => r !== 'won') }).toEqual({ round, won: 1, others: ['HOME_BUSY', 'HOME_BUSY'] });
      expect(existsSync(join(home, MUTEX_FILE))).toBe(false);
    }
  }, 120_000);
});
