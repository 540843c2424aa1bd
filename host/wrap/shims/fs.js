// @ts-check
/**
 * node:fs for a wrapped server: `promises` and the callback forms over the same operations
 * (fs-promises.js); the synchronous forms and streams cannot be served (the file API answers
 * asynchronously, from the host) and throw UNSUPPORTED_API naming themselves.
 */
import * as p from './fs-promises.js';
import { unsupported } from './unsupported.js';

/** @param {(...args: any[]) => Promise<unknown>} fn */
function callback(fn) {
  /** @param {...any} args */
  return function (...args) {
    const cb = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    const done = fn(...args);
    if (cb !== null) done.then((v) => cb(null, v), (e) => cb(e));
  };
}

export const promises = p.default;
export const constants = p.constants;
export const Stats = p.Stats;
export const Dirent = p.Dirent;
export const readFile = callback(p.readFile);
export const writeFile = callback(p.writeFile);
export const appendFile = callback(p.appendFile);
export const readdir = callback(p.readdir);
export const stat = callback(p.stat);
export const lstat = callback(p.lstat);
export const access = callback(p.access);
export const realpath = callback(p.realpath);
export const mkdir = callback(p.mkdir);
export const rm = callback(p.rm);
export const unlink = callback(p.unlink);
export const rmdir = callback(p.rmdir);
export const rename = callback(p.rename);
export const copyFile = callback(p.copyFile);
export const chmod = callback(p.chmod);
/** @param {unknown} path @param {(exists: boolean) => void} cb */
export function exists(path, cb) { p.access(path).then(() => cb(true), () => cb(false)); }

export const readFileSync = unsupported('unsupported-api:node:fs.readFileSync');
export const writeFileSync = unsupported('unsupported-api:node:fs.writeFileSync');
export const appendFileSync = unsupported('unsupported-api:node:fs.appendFileSync');
export const existsSync = unsupported('unsupported-api:node:fs.existsSync');
export const statSync = unsupported('unsupported-api:node:fs.statSync');
export const lstatSync = unsupported('unsupported-api:node:fs.lstatSync');
export const readdirSync = unsupported('unsupported-api:node:fs.readdirSync');
export const mkdirSync = unsupported('unsupported-api:node:fs.mkdirSync');
export const rmSync = unsupported('unsupported-api:node:fs.rmSync');
export const unlinkSync = unsupported('unsupported-api:node:fs.unlinkSync');
export const renameSync = unsupported('unsupported-api:node:fs.renameSync');
export const realpathSync = unsupported('unsupported-api:node:fs.realpathSync');
export const accessSync = unsupported('unsupported-api:node:fs.accessSync');
export const copyFileSync = unsupported('unsupported-api:node:fs.copyFileSync');
export const openSync = unsupported('unsupported-api:node:fs.openSync');
export const readSync = unsupported('unsupported-api:node:fs.readSync');
export const writeSync = unsupported('unsupported-api:node:fs.writeSync');
export const closeSync = unsupported('unsupported-api:node:fs.closeSync');
export const createReadStream = unsupported('unsupported-api:node:fs.createReadStream');
export const createWriteStream = unsupported('unsupported-api:node:fs.createWriteStream');
export const watch = unsupported('unsupported-api:node:fs.watch');
export const watchFile = unsupported('unsupported-api:node:fs.watchFile');
export const open = unsupported('unsupported-api:node:fs.open');

export default {
  promises, constants, Stats, Dirent, readFile, writeFile, appendFile, readdir, stat, lstat, access, realpath, mkdir, rm, unlink, rmdir, rename, copyFile, chmod, exists,
  readFileSync, writeFileSync, appendFileSync, existsSync, statSync, lstatSync, readdirSync, mkdirSync, rmSync, unlinkSync, renameSync, realpathSync, accessSync,
  copyFileSync, openSync, readSync, writeSync, closeSync, createReadStream, createWriteStream, watch, watchFile, open,
};
