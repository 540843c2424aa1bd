/**
 * Failures of the operating system, as the user must see them: a documented code, the path, and what to
 * do — never `INTERNAL: ENOSPC: …` (INTERNAL is kept for bugs). Every command's errors pass through
 * runCommand (cli-support.ts), which maps what is left unmapped here.
 */
import { HostError } from '../errors.ts';
import type { HostErrorCode } from '../errors.ts';

interface OsError extends Error {
  readonly code: string;
  readonly syscall?: string;
  readonly path?: string;
  readonly dest?: string;
}

const ERRNO: Readonly<Record<string, { code: HostErrorCode; what: string; todo: string }>> = {
  ENOSPC: { code: 'DISK_FULL', what: 'no space left on the device', todo: 'free some space or choose another directory, then retry' },
  EDQUOT: { code: 'DISK_FULL', what: 'disk quota exceeded', todo: 'free some space or choose another directory, then retry' },
  EROFS: { code: 'READ_ONLY', what: 'the file system is read-only', todo: 'choose a directory on a writable file system' },
  EACCES: { code: 'PERMISSION_DENIED', what: 'permission denied', todo: 'choose a directory you may write, or fix its permissions' },
  EPERM: { code: 'PERMISSION_DENIED', what: 'operation not permitted', todo: 'choose a directory you may write, or fix its permissions' },
  ENOTDIR: { code: 'PATH_INVALID', what: 'a part of the path is not a directory', todo: 'check the path: a file stands where a directory is needed' },
  EISDIR: { code: 'PATH_INVALID', what: 'is a directory, a file was expected', todo: 'name a file, not a directory' },
  EEXIST: { code: 'PATH_INVALID', what: 'already exists', todo: 'choose another path, or remove the existing one' },
  ENOENT: { code: 'PATH_INVALID', what: 'no such file or directory', todo: 'check the path; create its directory first' },
  ENAMETOOLONG: { code: 'PATH_INVALID', what: 'the path is too long', todo: 'choose a shorter path' },
  ELOOP: { code: 'PATH_INVALID', what: 'too many levels of symbolic links', todo: 'check the symbolic links on the path' },
  EIO: { code: 'IO_FAILED', what: 'input/output error', todo: 'check the device and retry' },
  EMFILE: { code: 'IO_FAILED', what: 'too many open files', todo: 'raise the open-file limit (ulimit -n) or retry' },
  ENFILE: { code: 'IO_FAILED', what: 'too many open files in the system', todo: 'retry later' },
  EBUSY: { code: 'IO_FAILED', what: 'resource busy', todo: 'retry when the file is no longer in use' },
  ETXTBSY: { code: 'IO_FAILED', what: 'text file busy', todo: 'retry when the file is no longer in use' },
  EXDEV: { code: 'IO_FAILED', what: 'cannot move across file systems', todo: 'choose a directory on the same file system' },
};

function isOsError(e: unknown): e is OsError {
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && Object.hasOwn(ERRNO, code);
}

/** The HostError for an operating-system error, or undefined for anything else (which stays a bug). */
export function osErrorToHostError(e: unknown): HostError | undefined {
  if (!isOsError(e)) return undefined;
  const m = ERRNO[e.code] as (typeof ERRNO)[string];
  const path = e.path ?? e.dest;
  const where = path ? ` (${e.syscall ? `${e.syscall} ` : ''}${path.slice(0, 300)})` : e.syscall ? ` (${e.syscall})` : '';
  return new HostError(m.code, `${m.what}${where}: ${m.todo}`, { cause: e });
}

