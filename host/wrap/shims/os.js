// @ts-check
/** node:os for a wrapped server: fixed, harmless facts (the home directory is the server's cwd, a granted directory). */
import { cwd } from './process-state.js';

export const EOL = '\n';
export function homedir() { return cwd(); }
export function tmpdir() { return cwd(); }
export function platform() { return 'linux'; }
export function type() { return 'Linux'; }
export function arch() { return 'x64'; }
export function release() { return '0.0.0'; }
export function hostname() { return 'mcp-warden'; }
export function cpus() { return []; }
export function totalmem() { return 0; }
export function freemem() { return 0; }
export function endianness() { return 'LE'; }
export function networkInterfaces() { return {}; }
export function userInfo() { return { username: 'sandbox', uid: 1000, gid: 1000, shell: null, homedir: cwd() }; }
export const constants = { signals: {}, errno: {} };
export default { EOL, homedir, tmpdir, platform, type, arch, release, hostname, cpus, totalmem, freemem, endianness, networkInterfaces, userInfo, constants };
