/**
 * Files that hold secrets or their key: believed only if they are the user's, and refused when their
 * group or others can read them (stricter than host/home/modes.ts, which refuses only writable ones).
 */
import { stat } from 'node:fs/promises';
import { HostError } from '../errors.ts';
import { assertSafe } from '../home/modes.ts';

/** What is wrong with a secret file's mode, or null. Pure. */
export function readableByOthers(mode: number): string | null {
  if ((mode & 0o044) === 0) return null;
  return `is readable by ${(mode & 0o040) !== 0 ? 'its group' : 'others'} (mode ${(mode & 0o777).toString(8).padStart(4, '0')})`;
}

/**
 * Checks a secrets file or key file that exists: the user's (host/home/modes.ts) and 0600 or stricter.
 * @throws HostError HOME_UNSAFE with the chmod that fixes it; returns false when the file is missing
 */
export async function assertPrivateFile(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => null);
  if (info === null) return false;
  await assertSafe(path);
  if (typeof process.getuid !== 'function') return true;
  const why = readableByOthers(info.mode);
  if (why !== null) throw new HostError('HOME_UNSAFE', `${path} ${why}; secrets are kept only in files nobody else can read: fix it with: chmod 600 ${path}`);
  return true;
}
