/**
 * Per-file digests of an installed package: recorded at install (in the lock entry's `files`), re-checked
 * at every serve start (host/home/verify-installed.ts).
 *
 * Threat: the extracted files are what the sandbox runs, long after the signature was checked. Whoever
 * can write to <home>/packages (another tool, a sync client, malware running as the user but without
 * the will to also forge lock.json) could swap the entry file. The tarball integrity alone cannot be
 * re-checked without the tarball, so install records a sha512 of every file it wrote, and serve compares
 * the directory, file by file, before loading: any changed, missing or extra file, or anything that is
 * not a regular file or directory (a symlink planted to redirect a read), refuses the package.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { HostError } from '../errors.ts';

/** Package-relative path → SRI "sha512-…". */
export type FileDigests = Readonly<Record<string, string>>;

/** The most bytes serve reads back when re-checking one package (the tarball's inflated cap). */
export const MAX_VERIFIED_BYTES = 128 * 1024 * 1024;

export function sriSha512(data: Uint8Array): string {
  return `sha512-${createHash('sha512').update(data).digest('base64')}`;
}

/** Digests of the files of a tarball, as extracted. */
export function digestFiles(files: readonly { readonly path: string; readonly data: Uint8Array }[]): FileDigests {
  const out: Record<string, string> = {};
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) out[f.path] = sriSha512(f.data);
  return out;
}

function mismatch(what: string, detail: string): HostError {
  return new HostError('INTEGRITY_MISMATCH', `${what}: ${detail}; the installed files no longer match what was verified at install (reinstall it)`);
}

/** Every regular file under `root`, package-relative with "/" separators; refuses links and special files. */
function listTree(root: string, what: string, limit: number): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const entries = readdirSync(rel === '' ? root : join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
      else throw mismatch(what, `${JSON.stringify(p.slice(0, 120))} is not a regular file`);
      if (out.length > limit) throw mismatch(what, 'more files than were installed');
    }
  };
  walk('');
  return out.sort();
}

/**
 * Reads the package directory and checks it against the recorded digests: the same set of files, each
 * with the same sha512. Returns the verified bytes, so the loader uses exactly what was checked (no
 * window between check and read).
 *
 * The reads are synchronous: a package is a few small files in the user's home (capped at
 * MAX_VERIFIED_BYTES), and a promise per open, stat, read and close of each file was most of the
 * verification's cost at serve's start-up (issue 14). Callers verify one package per event-loop turn.
 * @throws HostError INTEGRITY_MISMATCH
 */
export function readVerifiedTree(root: string, expected: FileDigests, what: string): Map<string, Buffer> {
  const wanted = Object.keys(expected).sort();
  const present = listTree(root, what, wanted.length);
  const extra = present.find((p) => !Object.hasOwn(expected, p));
  if (extra !== undefined) throw mismatch(what, `unexpected file ${JSON.stringify(extra.slice(0, 120))}`);
  const missing = wanted.find((p) => !present.includes(p));
  if (missing !== undefined) throw mismatch(what, `file ${JSON.stringify(missing.slice(0, 120))} is missing`);
  const files = new Map<string, Buffer>();
  let total = 0;
  for (const p of wanted) {
    const path = join(root, ...p.split('/'));
    // O_NOFOLLOW: a file swapped for a symlink after the listing is not followed. Whatever is read, its
    // digest must match, so a swap can only make the check fail.
    let data: Buffer;
    try {
      const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const info = fstatSync(fd);
        total += info.size;
        if (!info.isFile() || total > MAX_VERIFIED_BYTES) throw mismatch(what, `${JSON.stringify(p.slice(0, 120))} is not a regular file of an installable size`);
        data = readFileSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      if (e instanceof HostError) throw e;
      throw mismatch(what, `file ${JSON.stringify(p.slice(0, 120))} cannot be read`);
    }
    if (sriSha512(data) !== expected[p]) throw mismatch(what, `file ${JSON.stringify(p.slice(0, 120))} was modified`);
    files.set(p, data);
  }
  return files;
}
