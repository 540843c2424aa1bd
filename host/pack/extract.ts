/**
 * Reading and extracting package tarballs (gzip + ustar, npm layout: every entry under "package/").
 *
 * Threat: a tarball comes from anyone. Tar lets an entry name any path ("/etc/x", "../../x"), be a
 * symlink or hard link that later entries write through, a device, or be listed twice so that the copy
 * a verifier reads is not the copy that lands on disk; gzip lets a few kilobytes inflate to gigabytes.
 * So everything is read in memory first, under caps, and refused as a whole (TARBALL_INVALID) unless
 * every entry is a regular file or directory with a plain relative path under "package/", listed once.
 * Only then is anything written, into a fresh directory, with fixed modes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, relative, resolve, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { HostError } from '../errors.ts';
import { PACKAGE_LIMITS } from './limits.ts';
import {
  BLOCK,
  TYPE_DIRECTORY,
  TYPE_FILE,
  TYPE_FILE_OLD,
  TYPE_PAX,
  decodeHeader,
  isZeroBlock,
  parsePax,
} from './ustar.ts';

export interface TarLimits {
  /** Largest accepted .tgz file. */
  readonly maxCompressedBytes: number;
  /** Largest accepted uncompressed tar stream (headers included): the gzip-bomb cap. */
  readonly maxTotalBytes: number;
  /** Largest accepted single file. */
  readonly maxFileBytes: number;
  /** Most entries (files and directories). */
  readonly maxEntries: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = Object.freeze({
  maxCompressedBytes: PACKAGE_LIMITS.maxTarballBytes,
  maxTotalBytes: PACKAGE_LIMITS.maxUnpackedBytes,
  maxFileBytes: PACKAGE_LIMITS.maxFileBytes,
  maxEntries: PACKAGE_LIMITS.maxFiles,
});

/** A regular file of the package, path relative to "package/". */
export interface TarFile {
  readonly path: string;
  readonly data: Buffer;
  readonly executable: boolean;
}

const PREFIX = 'package/';

function invalid(message: string, cause?: unknown): HostError {
  return new HostError('TARBALL_INVALID', `tarball: ${message}`, { cause });
}

/**
 * The package-relative path of an entry, or a refusal. Accepts only "package/<seg>/<seg>…" where each
 * segment is non-empty, not "." or "..", without backslash, NUL or a drive letter.
 */
function entryPath(raw: string, isDir: boolean): string {
  const shown = JSON.stringify(raw.slice(0, 120));
  if (raw.startsWith('/')) throw invalid(`absolute path ${shown}`);
  if (raw.includes('\\') || raw.includes('\0')) throw invalid(`path with a backslash or NUL ${shown}`);
  let p = raw;
  if (isDir && p.endsWith('/')) p = p.slice(0, -1);
  if (p === 'package' && isDir) return '';
  if (!p.startsWith(PREFIX)) throw invalid(`entry outside package/ ${shown}`);
  const rel = p.slice(PREFIX.length);
  const segs = rel.split('/');
  for (const seg of segs) {
    if (seg === '..') throw invalid(`path traversal ${shown}`);
    if (seg === '' || seg === '.') throw invalid(`non-canonical path ${shown}`);
    if (/^[A-Za-z]:/.test(seg)) throw invalid(`drive-letter path ${shown}`);
  }
  return rel;
}

function gunzip(tgz: Uint8Array, limits: TarLimits): Buffer {
  if (tgz.length > limits.maxCompressedBytes) throw invalid(`larger than ${limits.maxCompressedBytes} bytes`);
  if (tgz.length < 2 || tgz[0] !== 0x1f || tgz[1] !== 0x8b) throw invalid('not gzip-compressed');
  try {
    return gunzipSync(tgz, { maxOutputLength: limits.maxTotalBytes });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw invalid(`inflates to more than ${limits.maxTotalBytes} bytes`, e);
    throw invalid('corrupt or truncated gzip stream', e);
  }
}

/**
 * Reads a package tarball entirely in memory and validates every entry.
 * @returns the regular files, in archive order.
 * @throws HostError TARBALL_INVALID
 */
export function readTarball(tgz: Uint8Array, limits: TarLimits = DEFAULT_TAR_LIMITS): TarFile[] {
  const tar = gunzip(tgz, limits);
  const files: TarFile[] = [];
  // Folded paths seen so far, files and directories: a second entry for the same path (or one that
  // differs only in case or Unicode normalization, which collide on macOS and Windows) could replace
  // what was verified.
  const seenFiles = new Set<string>();
  const seenDirs = new Set<string>();
  let entries = 0;
  let pax: Map<string, string> | null = null;
  let pos = 0;
  for (;;) {
    if (pos + BLOCK > tar.length) throw invalid('truncated (no end-of-archive marker)');
    const block = tar.subarray(pos, pos + BLOCK);
    if (isZeroBlock(block)) break;
    const h = decodeHeader(block);
    if (!h) throw invalid(`bad header at offset ${pos}`);
    if (!Number.isSafeInteger(h.size) || h.size < 0) throw invalid(`bad size at offset ${pos}`);
    const dataStart = pos + BLOCK;
    const dataEnd = dataStart + h.size;
    if (dataEnd > tar.length) throw invalid('truncated entry data');
    pos = dataStart + Math.ceil(h.size / BLOCK) * BLOCK;
    if (++entries > limits.maxEntries) throw invalid(`more than ${limits.maxEntries} entries`);

    if (h.type === TYPE_PAX) {
      if (pax) throw invalid('two pax headers in a row');
      if (h.size > 64 * 1024) throw invalid('pax header too large');
      pax = parsePax(tar.subarray(dataStart, dataEnd));
      if (!pax) throw invalid('malformed pax header');
      continue;
    }
    const ext = pax;
    pax = null;
    const isFile = h.type === TYPE_FILE || h.type === TYPE_FILE_OLD;
    const isDir = h.type === TYPE_DIRECTORY;
    if (!isFile && !isDir) {
      // Symlinks ("2") and hard links ("1") would let a later entry write outside the directory; devices,
      // FIFOs and vendor extensions have no place in a tool package.
      throw invalid(`entry ${JSON.stringify(h.path.slice(0, 120))} has unsupported type ${JSON.stringify(h.type)} (only files and directories)`);
    }
    if (ext) {
      for (const key of ext.keys()) {
        if (key !== 'path' && key !== 'mtime' && key !== 'atime' && key !== 'ctime' && key !== 'comment') {
          // linkpath, size and the rest would change the meaning of the header we just validated.
          throw invalid(`unsupported pax key ${JSON.stringify(key.slice(0, 40))}`);
        }
      }
    }
    const rel = entryPath(ext?.get('path') ?? h.path, isDir);
    if (rel === '') continue;
    // Case- and Unicode-normalization-insensitive, as macOS and Windows file systems are.
    const key = rel.normalize('NFC').toLowerCase();
    if (seenFiles.has(key) || seenDirs.has(key)) throw invalid(`duplicate entry ${JSON.stringify(rel.slice(0, 120))}`);
    const parts = key.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (seenFiles.has(parent)) throw invalid(`entry ${JSON.stringify(rel.slice(0, 120))} is under a file`);
      seenDirs.add(parent);
    }
    if (isDir) {
      if (h.size !== 0) throw invalid('directory entry with data');
      seenDirs.add(key);
      continue;
    }
    if (h.size > limits.maxFileBytes) throw invalid(`entry ${JSON.stringify(rel.slice(0, 120))} larger than ${limits.maxFileBytes} bytes`);
    seenFiles.add(key);
    files.push({ path: rel, data: Buffer.from(tar.subarray(dataStart, dataEnd)), executable: (h.mode & 0o111) !== 0 });
  }
  return files;
}

/** package.json of a tarball, read in memory (nothing is written). @throws HostError TARBALL_INVALID */
export function readPackageJsonFromTarball(tgz: Uint8Array, limits: TarLimits = DEFAULT_TAR_LIMITS): { raw: Buffer; json: unknown } {
  const file = readTarball(tgz, limits).find((f) => f.path === 'package.json');
  if (!file) throw invalid('has no package/package.json');
  try {
    return { raw: file.data, json: JSON.parse(file.data.toString('utf8')) as unknown };
  } catch (e) {
    throw invalid('package/package.json is not valid JSON', e);
  }
}

/**
 * Extracts a validated tarball into `destDir`, which must not exist yet (it is created, 0755).
 * Files are written with mode 0644, or 0755 when executable in the archive; never through an existing
 * path ('wx'), so nothing outside `destDir` can be touched.
 * @returns the package-relative paths written, sorted.
 * @throws HostError TARBALL_INVALID
 */
export async function extractTarball(tgz: Uint8Array, destDir: string, limits: TarLimits = DEFAULT_TAR_LIMITS): Promise<string[]> {
  const files = readTarball(tgz, limits);
  const root = resolve(destDir);
  await mkdir(dirname(root), { recursive: true });
  try {
    await mkdir(root, { mode: 0o755 });
  } catch (e) {
    throw invalid('destination already exists', e);
  }
  for (const f of files) {
    const target = resolve(root, ...f.path.split('/'));
    // Defence in depth: entryPath already refused anything that could resolve elsewhere.
    const rel = relative(root, target);
    if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('..')) throw invalid(`path escapes the destination: ${f.path}`);
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    await writeFile(target, f.data, { flag: 'wx', mode: f.executable ? 0o755 : 0o644 });
  }
  return files.map((f) => f.path).sort();
}
