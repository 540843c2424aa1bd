/**
 * Ownership and mode checks of the home, as OpenSSH's StrictModes (auth.c, auth_secure_path) does for
 * ~/.ssh: a file is believed only if it and every directory from it up to the home belong to the user
 * (or root) and nobody else can write them.
 *
 * Threat: another local user who can write the home (a group-writable ~/.mcp-warden, a home shared by
 * mistake, a directory created by someone else) could plant a package and its lock record, edit the
 * trusted publishers or read the keys. The lock's digests and seal cannot help if the attacker can also
 * replace the key, so the home is refused outright, with the command that fixes it.
 */
import { lstat, stat } from 'node:fs/promises';
import { lstatSync, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, relative, isAbsolute, sep } from 'node:path';
import { HostError } from '../errors.ts';
import type { Home } from './home.ts';

/** What is wrong with a file's owner or mode, or null when it is safe. Pure. */
export function unsafeReason(info: Pick<Stats, 'uid' | 'mode'>, uid: number): string | null {
  if (info.uid !== uid && info.uid !== 0) return `is owned by uid ${info.uid}, not by you (uid ${uid})`;
  if ((info.mode & 0o022) !== 0) return `is writable by ${(info.mode & 0o020) !== 0 ? 'its group' : 'others'} (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')})`;
  return null;
}

function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

function quote(path: string): string {
  return /^[A-Za-z0-9_./@~+-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

function refuse(path: string, isDir: boolean, reason: string, uid: number): HostError {
  const fix = reason.startsWith('is owned')
    ? `fix it with: chown ${uid} ${quote(path)} (as its owner or root), or use another --home`
    : `fix it with: chmod ${isDir ? '700' : '600'} ${quote(path)}`;
  return new HostError('HOME_UNSAFE', `${path} ${reason}; mcp-warden does not trust a home others can change: ${fix}`);
}

/** Checks one path (following a symlink to what it names); a missing path is fine. @throws HostError HOME_UNSAFE */
export async function assertSafe(path: string): Promise<void> {
  const uid = currentUid();
  if (uid === undefined) return; // No POSIX owners (Windows): nothing to compare.
  let info: Stats;
  try {
    info = await stat(path);
  } catch {
    return;
  }
  judge(path, info, uid);
  // A symlink itself has no meaningful mode, but its owner decides where it points.
  judgeLink(path, await lstat(path).catch(() => undefined), uid);
}

/**
 * assertSafe with synchronous calls: for a check made once per installed package at serve's start-up,
 * where a promise per stat was a measurable part of the load (issue 14). Same verdicts.
 * @throws HostError HOME_UNSAFE
 */
export function assertSafeSync(path: string): void {
  const uid = currentUid();
  if (uid === undefined) return;
  let info: Stats;
  try {
    info = statSync(path);
  } catch {
    return;
  }
  judge(path, info, uid);
  let link: Stats | undefined;
  try {
    link = lstatSync(path);
  } catch {
    link = undefined;
  }
  judgeLink(path, link, uid);
}

function judge(path: string, info: Stats, uid: number): void {
  const reason = unsafeReason(info, uid);
  if (reason) throw refuse(path, info.isDirectory(), reason, uid);
}

function judgeLink(path: string, link: Stats | undefined, uid: number): void {
  if (link?.isSymbolicLink() && link.uid !== uid && link.uid !== 0) throw refuse(path, false, `is a symlink owned by uid ${link.uid}`, uid);
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** Checks `path` and every directory from it up to the home directory, home included. @throws HostError HOME_UNSAFE */
export async function assertSafeUpToHome(home: Home, path: string): Promise<void> {
  let p = path;
  while (inside(home.dir, p)) {
    await assertSafe(p);
    p = dirname(p);
  }
  await assertSafe(home.dir);
}

/**
 * The home and the files serve and every command believe: the home directory, lock.json, trust.json,
 * the keys and packages/. Package directories are checked when they are loaded (host/home/verify-installed.ts).
 * @throws HostError HOME_UNSAFE
 */
export async function assertHomeSafe(home: Home): Promise<void> {
  await assertSafe(home.dir);
  for (const p of [home.lockFile, home.trustFile, home.auditKey, home.sealKey, home.packagesDir, home.storeDir]) await assertSafe(p);
}
