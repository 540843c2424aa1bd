/**
 * One writer at a time per home: install, remove, grant and revoke read lock.json, change it and write it
 * back; two at once would lose one's change, and the cleanup of orphans (host/home/recovery.ts) must
 * not delete a directory another install is still filling.
 *
 * The lock is a file created exclusively ('wx') holding the owner's pid. A crashed owner leaves it
 * behind: a lock whose pid is no longer alive is taken over. A recycled pid that happens to be alive only
 * makes us report HOME_BUSY (the user can delete the file); it never lets two writers run.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from '../errors.ts';
import type { Home } from './home.ts';

export const MUTEX_FILE = 'install.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

async function acquire(path: string): Promise<boolean> {
  try {
    await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (e) {
    if ((e as { code?: string }).code !== 'EEXIST') throw e;
    return false;
  }
}

/** Runs `fn` holding the home's writer lock. @throws HostError HOME_BUSY */
export async function withHomeMutex<T>(home: Home, fn: () => Promise<T>): Promise<T> {
  const path = join(home.dir, MUTEX_FILE);
  if (!(await acquire(path))) {
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new HostError('HOME_BUSY', `another mcp-warden (pid ${pid}) is changing this home; if it is not running, delete ${MUTEX_FILE} in the home`);
    // The owner died (a crash): take the lock over.
    await rm(path, { force: true });
    if (!(await acquire(path))) throw new HostError('HOME_BUSY', 'another mcp-warden is changing this home');
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}
