/**
 * `pack`: turns a tool package directory into an npm-compatible tarball (every entry under "package/"),
 * byte-for-byte reproducible, so that a signature made on one machine verifies a tarball rebuilt on
 * another and a reviewer can rebuild what was signed.
 *
 * Reproducibility: entries sorted by path, fixed mtime (npm's 1985-10-26T08:15:00Z), modes 0644/0755,
 * uid/gid 0 without user or group names, no directory entries, gzip level 9 with mtime 0, no file name
 * and a fixed OS byte.
 *
 * Threat: a package directory may hold symlinks pointing anywhere (~/.ssh/id_rsa); they are refused,
 * and every listed path must stay inside the package.
 */
import { lstat, readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import ssri from 'ssri';
import { makeDirectory } from '../home/files.ts';
import { HostError } from '../errors.ts';
import { atomicWrite } from '../home/files.ts';
import { parsePackageManifest } from '../manifest.ts';
import { checkContentFiles, namedContentFiles } from '../serve/load-content.ts';
import { PACKAGE_LIMITS, checkPackageFiles } from './limits.ts';
import { BLOCK, TYPE_FILE, encodeHeader } from './ustar.ts';

/** npm's fixed tarball mtime, in seconds since the epoch. */
const FIXED_MTIME = Math.floor(Date.UTC(1985, 9, 26, 8, 15, 0) / 1000);
const GZIP_OS_UNKNOWN = 0xff;
const TOP_LEVEL_DOCS = /^(?:readme|license|licence|copying|notice)(?:\.[A-Za-z0-9]+)?$/i;
const SKIPPED_DIRS = new Set(['node_modules', '.git']);
const MAX_PACKAGE_FILES = PACKAGE_LIMITS.maxFiles;

export interface PackResult {
  /** Absolute path of the written .tgz. */
  readonly file: string;
  /** SRI integrity of the tarball, "sha512-…". */
  readonly integrity: string;
  readonly name: string;
  readonly version: string;
  /** Size of the tarball in bytes. */
  readonly size: number;
  /** Package-relative paths in the tarball, sorted. */
  readonly files: readonly string[];
}

function packageInvalid(message: string): HostError {
  return new HostError('PACKAGE_INVALID', message);
}

/** The npm tarball name: "@acme/http-json" 1.2.0 → "acme-http-json-1.2.0.tgz". */
export function tarballFileName(name: string, version: string): string {
  return `${name.replace(/^@/, '').replace(/\//g, '-')}-${version}.tgz`;
}

/** Normalizes a package-relative path from package.json; refuses escapes and globs. */
function listedPath(raw: unknown, field: string): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 1024) throw new HostError('MANIFEST_INVALID', `package.json ${field} must hold non-empty relative paths`);
  if (/[*?[\]{}!]/.test(raw)) throw new HostError('MANIFEST_INVALID', `package.json ${field}: glob patterns are not supported (${JSON.stringify(raw)}); list files or directories`);
  const p = raw.replace(/^\.\//, '').replace(/\/+$/, '');
  if (p.startsWith('/') || p.includes('\\') || p.split('/').some((s) => s === '..' || s === '.' || s === '')) {
    throw new HostError('MANIFEST_INVALID', `package.json ${field}: ${JSON.stringify(raw)} must be a relative path inside the package`);
  }
  return p;
}

/** Adds `rel` (a file, or a directory walked recursively) to `out`, refusing symlinks and escapes. */
async function collect(root: string, rel: string, out: Set<string>, required: boolean): Promise<void> {
  const abs = join(root, ...rel.split('/'));
  let st;
  try {
    st = await lstat(abs);
  } catch {
    if (required) throw packageInvalid(`${rel} does not exist`);
    return;
  }
  if (st.isSymbolicLink()) throw packageInvalid(`${rel} is a symbolic link; packages hold regular files only`);
  const real = await realpath(abs);
  const back = relative(root, real);
  if (back.startsWith('..') || back.split(sep).includes('..')) throw packageInvalid(`${rel} resolves outside the package`);
  if (st.isFile()) {
    out.add(rel);
  } else if (st.isDirectory()) {
    const names = (await readdir(abs)).sort();
    for (const n of names) {
      if (SKIPPED_DIRS.has(n)) continue;
      await collect(root, `${rel}/${n}`, out, true);
    }
  } else {
    throw packageInvalid(`${rel} is not a regular file or directory`);
  }
  if (out.size > MAX_PACKAGE_FILES) throw packageInvalid(`more than ${MAX_PACKAGE_FILES} files`);
}

/** Byte order of UTF-8 paths, independent of locale. */
function byPath(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Builds the reproducible tarball of a package directory in memory.
 * @throws HostError MANIFEST_INVALID (package.json; a resource file or icon it names is missing or over
 *   its cap), PACKAGE_INVALID (missing entry, symlink, escape)
 */
export async function packToBuffer(pkgDir: string): Promise<{ data: Buffer; name: string; version: string; files: string[] }> {
  const root = await realpath(resolve(pkgDir)).catch(() => {
    throw packageInvalid('package directory not found');
  });
  let pkg: unknown;
  const pkgJsonSize = await stat(join(root, 'package.json')).then((s) => s.size, () => 0);
  if (pkgJsonSize > PACKAGE_LIMITS.maxPackageJsonBytes) throw packageInvalid(`package.json is larger than ${PACKAGE_LIMITS.maxPackageJsonBytes} bytes`);
  try {
    pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  } catch {
    throw new HostError('MANIFEST_INVALID', 'package.json is missing or is not valid JSON');
  }
  const pm = parsePackageManifest(pkg);
  const { name, version, manifest } = pm;
  const wanted = new Set<string>();
  await collect(root, 'package.json', wanted, true);
  await collect(root, listedPath(manifest.entry, 'mcpWarden.entry'), wanted, true);
  // The files the package serves (resource files, icons) are packed like the entry; one that is missing
  // is refused below by serve's own check, naming its field.
  for (const f of namedContentFiles(pm)) await collect(root, f.rel, wanted, false);
  for (const n of (await readdir(root)).sort()) if (TOP_LEVEL_DOCS.test(n)) await collect(root, n, wanted, false);
  const listed = (pkg as { files?: unknown }).files;
  if (listed !== undefined) {
    if (!Array.isArray(listed)) throw new HostError('MANIFEST_INVALID', 'package.json "files" must be an array of paths');
    for (const f of listed) await collect(root, listedPath(f, '"files"'), wanted, true);
  }

  const files = [...wanted].sort(byPath);
  // The limits install and serve apply (host/pack/limits.ts), checked before anything is read.
  const sizes = new Map<string, number>();
  let total = 0;
  for (const rel of files) {
    const { size } = await lstat(join(root, ...rel.split('/')));
    if (size > PACKAGE_LIMITS.maxFileBytes) throw packageInvalid(`${rel} is larger than ${PACKAGE_LIMITS.maxFileBytes} bytes`);
    total += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    sizes.set(rel, size);
  }
  if (total > PACKAGE_LIMITS.maxUnpackedBytes) throw packageInvalid(`the files add up to more than ${PACKAGE_LIMITS.maxUnpackedBytes} bytes`);
  checkPackageFiles(name, manifest.entry, sizes);
  checkContentFiles(pm, sizes, name);
  const chunks: Buffer[] = [];
  for (const rel of files) {
    const abs = join(root, ...rel.split('/'));
    const [data, st] = await Promise.all([readFile(abs), lstat(abs)]);
    if (data.length !== sizes.get(rel)) throw packageInvalid(`${rel} changed while it was packed`);
    chunks.push(encodeHeader({ path: `package/${rel}`, mode: st.mode & 0o100 ? 0o755 : 0o644, size: data.length, mtime: FIXED_MTIME, type: TYPE_FILE }));
    chunks.push(data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) chunks.push(Buffer.alloc(pad));
  }
  chunks.push(Buffer.alloc(BLOCK * 2));
  const gz = gzipSync(Buffer.concat(chunks), { level: 9 });
  // The gzip header's OS byte depends on how zlib was built; fix it so every platform writes the same bytes.
  gz[9] = GZIP_OS_UNKNOWN;
  if (gz.length > PACKAGE_LIMITS.maxTarballBytes) throw packageInvalid(`the tarball is larger than ${PACKAGE_LIMITS.maxTarballBytes} bytes`);
  return { data: gz, name, version, files };
}

/**
 * Packs `pkgDir` into `outDir/<npm tarball name>` (written atomically) and returns its integrity.
 * @throws HostError MANIFEST_INVALID, PACKAGE_INVALID
 */
export async function pack(pkgDir: string, outDir: string): Promise<PackResult> {
  const { data, name, version, files } = await packToBuffer(pkgDir);
  const dir = resolve(outDir);
  await makeDirectory(dir);
  const file = join(dir, tarballFileName(name, version));
  await atomicWrite(file, data, { mode: 0o644 });
  const integrity = ssri.fromData(data, { algorithms: ['sha512'] }).toString();
  return { file, integrity, name, version, size: data.length, files };
}
