/**
 * Spawns one sandbox worker process. The worker runs under Node's permission model with read access to
 * its own code and isolated-vm only: no writes, no child processes, no worker threads, no inherited
 * environment (secrets of the host stay in the host). This is the second wall behind the isolate.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:net';
import type { CpuPin } from './pool/cpu-binding.ts';

const here = fileURLToPath(import.meta.url);
const runtimeDir = dirname(here);
// In the source tree the worker is TypeScript run by Node's type stripping; in dist it is JavaScript.
const workerFile = join(runtimeDir, 'worker', `main${extname(here)}`);

/**
 * A package's directory as resolved (its real path) and, when the worker's resolver reaches it through a
 * symlink (`node_modules` or `node_modules/NAME` linked, as pnpm or a shared node_modules do), that link:
 * the resolver stats the link before following it, and the permission model checks the path it is given.
 */
function packageDirs(name: string): string[] {
  const require = createRequire(import.meta.url);
  const dirs = [dirname(require.resolve(`${name}/package.json`))];
  for (let dir = runtimeDir; dirname(dir) !== dir; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (!existsSync(candidate)) continue;
    const link = [join(dir, 'node_modules'), candidate].find((p) => lstatSync(p).isSymbolicLink());
    if (link !== undefined) dirs.push(link);
    break;
  }
  return dirs;
}

let readable: string[] | null = null;
function readablePaths(): string[] {
  // node-gyp-build probes /etc/alpine-release to pick the musl or glibc prebuild.
  if (readable === null) readable = [...new Set([runtimeDir, ...packageDirs('isolated-vm'), ...packageDirs('node-gyp-build'), '/etc/alpine-release'])];
  return readable;
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly channel: Socket;
}

/**
 * Starts a worker. `rssMb` is its resident-memory ceiling (the worker disposes its largest isolate above
 * it), derived by the supervisor from the limits of the packages it will host. With `cpu`, the worker is
 * bound to that CPU, every thread of it (runtime/pool/cpu-binding.ts): `taskset` sets the binding and
 * executes Node in its place, so the process, its pid and its descriptors are the worker's own.
 */
export function spawnWorker(options: { rssMb: number; cpu?: CpuPin }): WorkerProcess {
  const args = [
    // isolated-vm's README: required on Node >= 20, whose startup snapshot the addon is not built for.
    '--no-node-snapshot',
    // No WebAssembly code GC in a worker. V8 starts one (WasmEngine::TriggerGC) on a compile thread while
    // holding its engine-wide lock, and posts a task to every isolate, isolated-vm's too: when that post
    // held the last reference to an isolate being disposed (a memory bomb's), its destructor ran there and
    // took the same lock again, deadlocking the worker (its main thread included, so no heartbeat) until the
    // host killed it, every package on it losing its calls. Sandboxed code has no WebAssembly; the worker's
    // only wasm is Node's own (its TypeScript stripper, when the worker runs from the source tree), whose
    // code is then kept rather than collected.
    '--no-wasm-code-gc',
    '--permission',
    '--allow-addons',
    ...readablePaths().map((p) => `--allow-fs-read=${p}`),
    '--max-old-space-size=256',
    '--disable-warning=ExperimentalWarning',
    '--disable-warning=SecurityWarning',
    workerFile,
  ];
  const bound = options.cpu;
  const child = spawn(bound === undefined ? process.execPath : bound.taskset, bound === undefined ? args : ['-c', String(bound.cpu), process.execPath, ...args], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    // isolated-vm runs isolates on its own threads, and glibc gives each thread a malloc arena that keeps
    // freed memory resident: two arenas let a worker's memory fall back after a bomb or a big result.
    env: { WARDEN_WORKER_RSS_MB: String(options.rssMb), MALLOC_ARENA_MAX: '2' },
    windowsHide: true,
  });
  const channel = child.stdio[3] as Socket;
  return { child, channel };
}

/** Resident memory of a process in bytes, from /proc (Linux); null where unavailable. */
export function residentBytesSync(pid: number): number | null {
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return Number.isFinite(pages) ? pages * 4096 : null;
  } catch {
    return null;
  }
}

/** Resident memory of a process in bytes, from /proc (Linux); null where unavailable. */
export async function residentBytes(pid: number): Promise<number | null> {
  try {
    const { readFile } = await import('node:fs/promises');
    const statm = await readFile(`/proc/${pid}/statm`, 'utf8');
    const pages = Number(statm.split(' ')[1]);
    return Number.isFinite(pages) ? pages * 4096 : null;
  } catch {
    return null;
  }
}

/**
 * The scheduling state of a process's main thread from /proc (Linux): 'R' running, 'S'/'D' waiting,
 * 'T' stopped; null where unavailable.
 */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) || null;
  } catch {
    return null;
  }
}
