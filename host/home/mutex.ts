/**
 * One writer at a time per home: install, remove, grant and revoke read lock.json, change it and write it
 * back; two at once would lose one's change, and the cleanup of orphans (host/home/recovery.ts) must
 * not delete a directory another install is still filling.
 *
 * The lock is <home>/install.lock holding "<pid> <nonce>". It is written to a temporary file first and
 * hard-linked into place, so it appears complete or not at all (a full disk cannot leave an empty lock).
 *
 * Threat (takeover race): a crashed owner leaves the lock behind, and the takeover of a dead owner's lock
 * is read → delete → create. Done bare, two contenders can each read the dead pid, one deletes and
 * creates, and the other then deletes the fresh lock and creates its own: both run. (proper-lockfile's
 * stale takeover — stat, rmdir, mkdir — has the same window, and judges staleness by mtime, so it would
 * also make a user wait out a timeout after every crash.) Here the delete-and-create runs only under a
 * second, short-lived guard (install.lock.takeover, created exclusively), and only after re-reading,
 * under the guard, that the lock still names the same dead owner. Whoever creates the lock by an
 * exclusive link holds it; every other contender sees a live owner and gets HOME_BUSY.
 *
 * A recycled pid that happens to be alive only makes us report HOME_BUSY (the user can delete the file);
 * it never lets two writers run. SIGINT, SIGTERM and SIGHUP (Ctrl-C at the consent prompt, a closed
 * terminal) release the lock before the process exits.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HostError } from '../errors.ts';
import { atomicWrite } from './files.ts';
import type { Home } from './home.ts';

export const MUTEX_FILE = 'install.lock';
export const TAKEOVER_FILE = 'install.lock.takeover';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/** The owner pid recorded in a lock file's text, or undefined when the text is not a lock (empty, torn). */
function ownerOf(text: string): number | undefined {
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Creates `path` with `text`, complete or not at all (the home's atomicWrite). @returns false when it already exists */
async function createExclusive(path: string, text: string): Promise<boolean> {
  try {
    await atomicWrite(path, text, { mode: 0o600, exclusive: true });
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === 'EEXIST') return false;
    throw e;
  }
}

function busy(pid: number | undefined): HostError {
  return new HostError('HOME_BUSY', `another mcp-warden${pid ? ` (pid ${pid})` : ''} is changing this home; try again when it is done (if none is running, delete ${MUTEX_FILE} in the home)`);
}

/**
 * Replaces a dead owner's lock with ours, under the takeover guard. @returns true when we now hold the lock
 * @throws HostError HOME_BUSY
 */
async function takeOver(lockPath: string, guardPath: string, seen: string, mine: string): Promise<boolean> {
  if (!(await createExclusive(guardPath, mine))) {
    const guard = await readText(guardPath);
    const owner = guard === undefined ? undefined : ownerOf(guard);
    if (guard !== undefined && (owner === undefined || !alive(owner))) {
      // A taker died inside the few statements below: only a human can tell it is safe to go on.
      throw new HostError('HOME_BUSY', `a takeover of this home's lock was interrupted; if no mcp-warden is running, delete ${TAKEOVER_FILE} and ${MUTEX_FILE} in the home`);
    }
    throw busy(owner);
  }
  try {
    // Under the guard, nobody else deletes the lock: it is still the dead owner's only if it reads the same.
    if ((await readText(lockPath)) !== seen) return false;
    await rm(lockPath, { force: true });
    return await createExclusive(lockPath, mine);
  } finally {
    await rm(guardPath, { force: true });
  }
}

/** Takes the home's writer lock. @returns the lock's text (ours) @throws HostError HOME_BUSY */
async function acquire(home: Home): Promise<string> {
  const lockPath = join(home.dir, MUTEX_FILE);
  const mine = `${process.pid} ${randomBytes(8).toString('hex')}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await createExclusive(lockPath, mine)) return mine;
    const seen = await readText(lockPath);
    if (seen === undefined) continue; // Released meanwhile: try again.
    const owner = ownerOf(seen);
    if (owner !== undefined && alive(owner)) throw busy(owner);
    if (await takeOver(lockPath, join(home.dir, TAKEOVER_FILE), seen, mine)) return mine;
  }
  throw busy(undefined);
}

/** Removes the lock if it is still ours (synchronous: also runs from a signal handler). */
function releaseSync(lockPath: string, mine: string): void {
  try {
    if (readFileSync(lockPath, 'utf8') === mine) rmSync(lockPath, { force: true });
  } catch {
    // Already gone.
  }
}

const EXIT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Runs `fn` holding the home's writer lock. @throws HostError HOME_BUSY */
export async function withHomeMutex<T>(home: Home, fn: () => Promise<T>): Promise<T> {
  const mine = await acquire(home);
  const lockPath = join(home.dir, MUTEX_FILE);
  // A signal's default action kills the process without running `finally`: release first, then die of
  // the same signal (so the exit status still says what happened).
  const onSignal = (signal: NodeJS.Signals): void => {
    releaseSync(lockPath, mine);
    for (const s of EXIT_SIGNALS) process.off(s, onSignal);
    process.kill(process.pid, signal);
  };
  for (const s of EXIT_SIGNALS) process.once(s, onSignal);
  try {
    return await fn();
  } finally {
    for (const s of EXIT_SIGNALS) process.off(s, onSignal);
    releaseSync(lockPath, mine);
  }
}
