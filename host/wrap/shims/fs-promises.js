// @ts-check
/* global TextDecoder, URL, warden -- the sandbox's globals (types/tool-api.d.ts) */
/**
 * node:fs/promises for a wrapped server, over the sandbox's file API (the global `warden`: the context of
 * the call in flight). Every path is checked by the host against the package's grant on every operation;
 * nothing here widens it. What the file API has no operation for is composed from the ones it has
 * (rename = read, write, remove; realpath = stat, then the normalized path: the host resolves links and
 * checks the real path itself) or refused with UNSUPPORTED_API. Errors carry Node's errno codes
 * (ENOENT, EEXIST, ...; EACCES for a path outside the grant) so the server's own handling works.
 */
import { Buffer } from './buffer.js';
import { resolve } from './path.js';
import { unsupported } from './unsupported.js';

/** @type {Record<string, string>} errno of each message text of the host's file operations (runtime/io/files/op.ts) */
const ERRNO = {
  'no such file or directory': 'ENOENT', 'already exists': 'EEXIST', 'is a directory': 'EISDIR', 'not a directory': 'ENOTDIR',
  'directory not empty': 'ENOTEMPTY', 'permission denied': 'EACCES', 'operation not permitted': 'EPERM', 'name too long': 'ENAMETOOLONG',
  'no space left on device': 'ENOSPC', 'read-only file system': 'EROFS', 'resource busy': 'EBUSY', 'too many levels of symbolic links': 'ELOOP',
};

/**
 * The error as Node phrases it ("ENOENT: no such file or directory, open '/x'"), the sandbox's code kept as
 * `wardenCode`; a denial keeps the sandbox's message (which says why).
 * @param {unknown} e @param {string} [syscall] @param {string} [path]
 */
function nodeError(e, syscall, path) {
  if (e === null || typeof e !== 'object') return e;
  const err = /** @type {Error & { code?: string, wardenCode?: string, errno?: number, syscall?: string, path?: string }} */ (e);
  const message = String(err.message ?? '');
  if (err.code === 'CAPABILITY_FAILED') {
    const colon = message.lastIndexOf(': ');
    const text = colon < 0 ? '' : message.slice(colon + 2);
    err.wardenCode = err.code;
    err.code = ERRNO[text] ?? 'EIO';
    if (syscall !== undefined && path !== undefined && ERRNO[text] !== undefined) {
      err.message = err.code + ': ' + text + ', ' + syscall + " '" + path + "'";
      err.syscall = syscall;
      err.path = path;
    }
  } else if (err.code === 'CAPABILITY_DENIED') {
    err.wardenCode = err.code;
    err.code = 'EACCES';
  }
  return err;
}

/** @template T @param {() => Promise<T>} fn @param {string} [syscall] @param {unknown} [p] @returns {Promise<T>} */
async function run(fn, syscall, p) {
  try { return await fn(); } catch (e) { throw nodeError(e, syscall, typeof p === 'string' ? resolve(p) : undefined); }
}

function fs() { return warden.fs; }

/** @param {unknown} p */
function pathOf(p) {
  if (p instanceof URL) return decodeURIComponent(p.pathname);
  if (p instanceof Uint8Array) return new TextDecoder().decode(p);
  if (typeof p !== 'string') throw new TypeError('The "path" argument must be a string, Buffer or URL');
  return resolve(p);
}

/** @param {unknown} options */
function encodingOf(options) {
  if (typeof options === 'string') return options;
  if (options !== null && typeof options === 'object') {
    const enc = /** @type {{ encoding?: unknown }} */ (options).encoding;
    if (typeof enc === 'string') return enc;
  }
  return null;
}

/** @param {unknown} options */
function flagOf(options) {
  if (options !== null && typeof options === 'object') {
    const flag = /** @type {{ flag?: unknown }} */ (options).flag;
    if (typeof flag === 'string') return flag;
  }
  return 'w';
}

/** A Node-shaped Stats from the file API's { kind, size, mtimeMs }. */
/** The type predicates Node's Stats and Dirent share, answered from one kind ("file", "directory", "symlink"). */
class Kinded {
  /** @param {string} kind */
  constructor(kind) {
    this._kind = kind;
  }
  isFile() { return this._kind === 'file'; }
  isDirectory() { return this._kind === 'directory'; }
  isSymbolicLink() { return this._kind === 'symlink'; }
  isFIFO() { return false; }
  isSocket() { return false; }
  isBlockDevice() { return false; }
  isCharacterDevice() { return false; }
}

export class Stats extends Kinded {
  /** @param {{ kind: string, size: number, mtimeMs: number }} s */
  constructor(s) {
    super(s.kind);
    this.size = s.size;
    this.mtimeMs = s.mtimeMs;
    this.atimeMs = s.mtimeMs;
    this.ctimeMs = s.mtimeMs;
    this.birthtimeMs = s.mtimeMs;
    this.mtime = new Date(s.mtimeMs);
    this.atime = this.mtime;
    this.ctime = this.mtime;
    this.birthtime = this.mtime;
    this.mode = s.kind === 'directory' ? 0o40755 : 0o100644;
    this.uid = 1000;
    this.gid = 1000;
    this.nlink = 1;
    this.dev = 0;
    this.ino = 0;
    this.blksize = 4096;
    this.blocks = Math.ceil(s.size / 512);
  }
}

export class Dirent extends Kinded {
  /** @param {string} name @param {string} kind @param {string} parentPath */
  constructor(name, kind, parentPath) {
    super(kind);
    this.name = name;
    this.parentPath = parentPath;
    this.path = parentPath;
  }
}

/** @param {unknown} p @param {unknown} [options] */
export function readFile(p, options) {
  return run(async () => {
    const enc = encodingOf(options);
    if (enc === 'utf8' || enc === 'utf-8') return fs().readFile(pathOf(p), 'utf8');
    const bytes = await fs().readFile(pathOf(p));
    const b = Buffer.from(bytes);
    return enc === null ? b : b.toString(enc);
  }, 'open', p);
}

/** @param {unknown} p @param {unknown} data @param {unknown} [options] */
export function writeFile(p, data, options) {
  return run(async () => {
    const path = pathOf(p);
    const flag = flagOf(options);
    if (flag.includes('x') && (await exists(path))) throw Object.assign(new Error(`EEXIST: file already exists, open '${path}'`), { code: 'EEXIST' });
    if (flag.startsWith('a')) {
      const before = (await exists(path)) ? await fs().readFile(path) : new Uint8Array(0);
      return fs().writeFile(path, Buffer.concat([before, toBytes(data, options)]));
    }
    return fs().writeFile(path, toBytes(data, options));
  }, 'open', p);
}

/** @param {unknown} data @param {unknown} options @returns {Uint8Array} */
function toBytes(data, options) {
  if (typeof data === 'string') { const enc = encodingOf(options); return Buffer.from(data, enc ?? 'utf8'); }
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError('The "data" argument must be a string, Buffer or TypedArray');
}

/** @param {unknown} p @param {unknown} data @param {unknown} [options] */
export function appendFile(p, data, options) { return writeFile(p, data, { ...(typeof options === 'object' ? options : { encoding: options }), flag: 'a' }); }

/** @param {string} path */
async function exists(path) {
  try { await fs().stat(path); return true; } catch (e) { if (/** @type {{ code?: string }} */ (nodeError(e)).code === 'ENOENT') return false; throw e; }
}

/** @param {unknown} p @param {unknown} [options] */
export function readdir(p, options) {
  return run(async () => {
    const path = pathOf(p);
    const entries = await fs().readdir(path);
    const withTypes = options !== null && typeof options === 'object' && !!(/** @type {{ withFileTypes?: unknown }} */ (options).withFileTypes);
    return withTypes ? entries.map((e) => new Dirent(e.name, e.kind, path)) : entries.map((e) => e.name);
  }, 'scandir', p);
}

/** @param {unknown} p */
export function stat(p) { return run(async () => new Stats(await fs().stat(pathOf(p))), 'stat', p); }
/** The file API follows no link lexically: lstat is stat (the host resolves and checks the real path). @param {unknown} p */
export function lstat(p) { return stat(p); }
/** @param {unknown} p @param {number} [_mode] */
export function access(p, _mode) { return run(async () => { await fs().stat(pathOf(p)); }, 'access', p); }
/** @param {unknown} p */
export function realpath(p) { return run(async () => { const path = pathOf(p); await fs().stat(path); return path; }, 'realpath', p); }
/** @param {unknown} p @param {unknown} [options] */
export function mkdir(p, options) {
  return run(async () => {
    const recursive = options !== null && typeof options === 'object' && !!(/** @type {{ recursive?: unknown }} */ (options).recursive);
    await fs().mkdir(pathOf(p), { recursive });
    return undefined;
  });
}
/** @param {unknown} p @param {unknown} [options] */
export function rm(p, options) {
  return run(async () => {
    const o = /** @type {{ recursive?: unknown, force?: unknown }} */ (options !== null && typeof options === 'object' ? options : {});
    try { await fs().rm(pathOf(p), { recursive: !!o.recursive }); } catch (e) {
      if (o.force && /** @type {{ code?: string }} */ (nodeError(e)).code === 'ENOENT') return;
      throw e;
    }
  });
}
/** @param {unknown} p */
export function unlink(p) { return run(() => fs().rm(pathOf(p)), 'unlink', p); }
/** @param {unknown} p */
export function rmdir(p) { return run(() => fs().rm(pathOf(p))); }
/** Not atomic: the file API has no rename; the contents are copied, then the source removed. @param {unknown} from @param {unknown} to */
export function rename(from, to) {
  return run(async () => {
    const src = pathOf(from);
    const info = await fs().stat(src);
    if (info.kind !== 'file') throw Object.assign(new Error(`EISDIR: only files can be renamed in the sandbox, rename '${src}'`), { code: 'EISDIR' });
    await fs().writeFile(pathOf(to), await fs().readFile(src));
    await fs().rm(src);
  });
}
/** @param {unknown} from @param {unknown} to */
export function copyFile(from, to) { return run(async () => fs().writeFile(pathOf(to), await fs().readFile(pathOf(from)))); }
/** Modes are the host's: chmod checks the path exists and changes nothing. @param {unknown} p @param {unknown} _mode */
export function chmod(p, _mode) { return run(async () => { await fs().stat(pathOf(p)); }); }
/** @param {unknown} p @param {unknown} _a @param {unknown} _m */
export function utimes(p, _a, _m) { return chmod(p, 0); }

/** A read-only FileHandle over one whole read of the file (head/tail readers). @param {unknown} p @param {unknown} [flags] */
export function open(p, flags) {
  return run(async () => {
    const path = pathOf(p);
    if (flags !== undefined && flags !== 'r') throw unsupported('unsupported-api:node:fs/promises.open(write)')();
    const data = Buffer.from(await fs().readFile(path));
    return {
      fd: -1,
      /** @param {Uint8Array} buffer @param {number} [offset] @param {number} [length] @param {number | null} [position] */
      async read(buffer, offset = 0, length = buffer.length - offset, position = 0) {
        const start = position ?? 0;
        const chunk = data.subarray(start, Math.min(data.length, start + length));
        buffer.set(chunk, offset);
        return { bytesRead: chunk.length, buffer };
      },
      /** @param {unknown} [options] */
      async readFile(options) { const enc = encodingOf(options); return enc === null ? data : data.toString(enc); },
      async stat() { return new Stats(await fs().stat(path)); },
      async close() {},
    };
  });
}

export const symlink = unsupported('unsupported-api:node:fs/promises.symlink');
export const link = unsupported('unsupported-api:node:fs/promises.link');
export const readlink = unsupported('unsupported-api:node:fs/promises.readlink');
export const watch = unsupported('unsupported-api:node:fs/promises.watch');
export const opendir = unsupported('unsupported-api:node:fs/promises.opendir');
export const mkdtemp = unsupported('unsupported-api:node:fs/promises.mkdtemp');
export const constants = { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1, COPYFILE_EXCL: 1 };

export default {
  readFile, writeFile, appendFile, readdir, stat, lstat, access, realpath, mkdir, rm, unlink, rmdir, rename, copyFile, chmod, utimes, open,
  symlink, link, readlink, watch, opendir, mkdtemp, constants,
};
