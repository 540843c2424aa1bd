/**
 * Bundles a fetched server into ONE ES module with esbuild: Node's built-ins are aliased to the sandbox
 * shims (host/wrap/shims, docs/wrapping.md), the MCP SDK's StdioServerTransport to the in-isolate
 * transport, `node-fetch` to the sandbox's fetch, Node's globals (process, Buffer, setImmediate, AbortController) injected from the shims.
 * What cannot be served (child processes, sockets, native addons, synchronous file access) is bundled as
 * functions that throw UNSUPPORTED_API, and reported: which modules import it, and which of those APIs
 * the bundle still contains.
 */
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import type { Metafile, Plugin } from 'esbuild';
import { HostError } from '../errors.ts';
import { SHIMS_DIR } from './shims-dir.ts';

/** Built-ins served by a shim (node: prefix or not). */
const SHIMMED: Readonly<Record<string, string>> = {
  fs: 'fs.js', 'fs/promises': 'fs-promises.js', path: 'path.js', 'path/posix': 'path.js', url: 'url.js', os: 'os.js',
  process: 'process.js', events: 'events.js', util: 'util.js', buffer: 'buffer.js', crypto: 'crypto.js', timers: 'timers.js',
  'timers/promises': 'timers-promises.js', string_decoder: 'string-decoder.js', tty: 'tty.js',
  module: 'module.js',
};

/** Built-ins that cannot be served, with the names a call of which fails with UNSUPPORTED_API. */
const UNSUPPORTED: Readonly<Record<string, readonly string[]>> = {
  child_process: ['spawn', 'exec', 'execFile', 'fork', 'spawnSync', 'execSync', 'execFileSync', 'ChildProcess'],
  net: ['createServer', 'createConnection', 'connect', 'Socket', 'Server', 'isIP', 'isIPv4', 'isIPv6'],
  tls: ['connect', 'createServer', 'TLSSocket', 'createSecureContext'],
  dgram: ['createSocket', 'Socket'],
  dns: ['lookup', 'resolve', 'resolve4', 'resolve6', 'promises'],
  http: ['createServer', 'request', 'get', 'Agent', 'Server', 'IncomingMessage', 'ServerResponse', 'STATUS_CODES', 'METHODS'],
  https: ['createServer', 'request', 'get', 'Agent', 'Server'],
  http2: ['connect', 'createServer', 'createSecureServer'],
  cluster: ['fork', 'isPrimary', 'isMaster', 'isWorker'],
  worker_threads: ['Worker', 'isMainThread', 'parentPort', 'workerData'],
  vm: ['runInNewContext', 'runInThisContext', 'createContext', 'Script'],
  v8: ['serialize', 'deserialize', 'getHeapStatistics'],
  inspector: ['open', 'Session'],
  readline: ['createInterface', 'Interface'],
  'readline/promises': ['createInterface', 'Interface'],
  zlib: ['gzip', 'gunzip', 'deflate', 'inflate', 'createGzip', 'createGunzip', 'gzipSync', 'gunzipSync', 'constants'],
  stream: ['Readable', 'Writable', 'Duplex', 'Transform', 'PassThrough', 'pipeline', 'finished', 'Stream'],
  'stream/promises': ['pipeline', 'finished'],
  'stream/web': ['ReadableStream', 'WritableStream', 'TransformStream'],
  async_hooks: ['AsyncLocalStorage', 'AsyncResource', 'createHook', 'executionAsyncId'],
  perf_hooks: ['performance', 'PerformanceObserver'],
  assert: ['ok', 'equal', 'strictEqual', 'deepStrictEqual', 'AssertionError'],
  querystring: ['parse', 'stringify', 'escape', 'unescape'],
  diagnostics_channel: ['channel', 'subscribe', 'unsubscribe'],
  sqlite: ['DatabaseSync'],
};

export interface ServerConfig {
  /** Arguments after the program name; "${slot}" is replaced by the directory granted to that slot. */
  readonly argv: readonly string[];
  /** The whole environment the server sees (values may use "${slot}"). */
  readonly env: Readonly<Record<string, string>>;
  /** Its working directory ("${slot}", or "" for "/"). */
  readonly cwd: string;
}

export interface UnsupportedUse {
  /** The built-in module, e.g. "node:child_process", or "native addon". */
  readonly module: string;
  /** The files that import it, relative to the fetched tree. */
  readonly importers: readonly string[];
}

export interface BundleResult {
  readonly code: string;
  /** Built-in modules imported that cannot be served. */
  readonly unsupportedModules: readonly UnsupportedUse[];
  /** Every unsupported API still in the bundle (a call of one fails with UNSUPPORTED_API). */
  readonly unsupportedApis: readonly string[];
  /** The packages whose files are in the bundle (name@version from their package.json, by location). */
  readonly bundledLocations: readonly string[];
  /** What the bundle uses that suggests capabilities: fetch (net), file access (fs). */
  readonly uses: { readonly fetch: boolean; readonly fs: boolean };
}

const MARK = 'unsupported-api:';

function bareBuiltin(path: string): string | undefined {
  const name = path.startsWith('node:') ? path.slice(5) : path;
  if (name in SHIMMED || name in UNSUPPORTED) return name;
  return undefined;
}

function unsupportedModuleSource(name: string): string {
  const names = UNSUPPORTED[name] ?? [];
  const body = names.map((n) => `  ${JSON.stringify(n)}: unsupported(${JSON.stringify(`${MARK}node:${name}.${n}`)}),`).join('\n');
  return `const { unsupported } = require(${JSON.stringify(join(SHIMS_DIR, 'unsupported.js'))});\nmodule.exports = {\n${body}\n};\n`;
}

function wardenPlugin(): Plugin {
  return {
    name: 'mcp-warden-shims',
    setup(b) {
      b.onResolve({ filter: /^@modelcontextprotocol\/sdk\/server\/stdio(\.js)?$/ }, () => ({ path: join(SHIMS_DIR, 'sdk-stdio.js') }));
      // node-fetch (a polyfill over Node's http) is the sandbox's fetch.
      b.onResolve({ filter: /^node-fetch$/ }, () => ({ path: join(SHIMS_DIR, 'node-fetch.js') }));
      b.onResolve({ filter: /^(node:)?[a-z0-9_/]+$/ }, (args) => {
        const name = bareBuiltin(args.path);
        // Any other node: module is a built-in we do not know: refused like the listed ones.
        if (name === undefined) return args.path.startsWith('node:') ? { path: args.path, namespace: 'warden-unsupported' } : undefined;
        const shim = SHIMMED[name];
        if (shim !== undefined) return { path: join(SHIMS_DIR, shim) };
        return { path: `node:${name}`, namespace: 'warden-unsupported' };
      });
      b.onLoad({ filter: /.*/, namespace: 'warden-unsupported' }, (args) => ({ contents: unsupportedModuleSource(args.path.slice(5)), loader: 'js', resolveDir: SHIMS_DIR }));
      b.onLoad({ filter: /\.node$/ }, (args) => ({
        contents: `throw Object.assign(new Error('UNSUPPORTED_API: native addon ${relative(b.initialOptions.absWorkingDir ?? '/', args.path).replace(/[^\w./@-]/g, '')} cannot run in the sandbox'), { code: 'UNSUPPORTED_API' });`,
        loader: 'js',
      }));
    },
  };
}

/** The file a package runs as its server: its bin (the one named like the package, else the first), else main. */
export function serverMain(pkg: { name: string; bin?: string | Record<string, string>; main?: string }): string {
  if (typeof pkg.bin === 'string') return pkg.bin;
  if (pkg.bin && typeof pkg.bin === 'object') {
    const short = pkg.name.split('/').pop() ?? pkg.name;
    const named = pkg.bin[short] ?? pkg.bin[`mcp-${short}`] ?? Object.values(pkg.bin)[0];
    if (named !== undefined) return named;
  }
  if (typeof pkg.main === 'string') return pkg.main;
  throw new HostError('PACKAGE_INVALID', `${pkg.name} names no bin and no main: which file runs the server is unknown`);
}

/**
 * Bundles the server whose main module is `mainFile` (absolute) under `treeDir`; the generated entry is
 * written in `workDir`; `prompts` names the server's prompts, exported as prompt handlers; with
 * `resources`, a resource handler `read` forwards resources/read.
 * @throws HostError PACKAGE_INVALID (the bundler failed)
 */
export async function bundleServer(treeDir: string, mainFile: string, config: ServerConfig, server: { readonly name: string; readonly version: string }, workDir: string, prompts: readonly string[] = [], resources = false): Promise<BundleResult> {
  const entry = join(workDir, 'mcp-warden-entry.mjs');
  const serverConfig = { argv: config.argv, env: config.env, cwd: config.cwd, packageJson: { name: server.name, version: server.version } };
  // The server's prompts (listed in the sandbox by a first bundle) as prompt handlers that forward prompts/get.
  const promptHandlers = prompts.map((p) => `  ${JSON.stringify(p)}: (args) => server.call('prompts/get', { name: ${JSON.stringify(p)}, arguments: args }),`);
  await writeFile(entry, [
    '// Generated by mcp-warden wrap: the entry of a wrapped MCP server (host/wrap/shims/hub.js).',
    `import { serve } from ${JSON.stringify(join(SHIMS_DIR, 'hub.js'))};`,
    `const server = serve(() => import(${JSON.stringify(mainFile)}), ${JSON.stringify(serverConfig)});`,
    'export const mcpServer = { message: server.message };',
    ...(prompts.length > 0 ? ['export const prompts = {', ...promptHandlers, '};'] : []),
    // Its resources and resource templates: one handler forwarding resources/read of the server's own URI.
    ...(resources ? ['export const resources = { read: (input) => server.readResource(input) };'] : []),
    '',
  ].join('\n'));
  let metafile: Metafile;
  let code: string;
  try {
    const r = await build({
      entryPoints: [entry],
      absWorkingDir: treeDir,
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      target: 'es2023',
      mainFields: ['module', 'main'],
      conditions: ['node', 'import', 'require', 'default'],
      inject: [join(SHIMS_DIR, 'globals.js')],
      define: { global: 'globalThis', 'import.meta.url': JSON.stringify('file:///mcp-warden/server/index.js') },
      plugins: [wardenPlugin()],
      metafile: true,
      logLevel: 'silent',
      legalComments: 'none',
      charset: 'utf8',
    });
    metafile = r.metafile;
    code = r.outputFiles[0]?.text ?? '';
  } catch (e) {
    const errors = (e as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors ?? [];
    const first = errors[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    throw new HostError('PACKAGE_INVALID', `the server cannot be bundled: ${(first?.text ?? (e as Error).message ?? 'esbuild failed').slice(0, 300)}${where}${errors.length > 1 ? ` and ${errors.length - 1} more errors` : ''}`);
  }
  const importers = new Map<string, Set<string>>();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    for (const imp of input.imports) {
      const mod = imp.path.startsWith('warden-unsupported:') ? imp.path.slice('warden-unsupported:'.length) : imp.path.endsWith('.node') ? 'native addon' : undefined;
      if (mod === undefined) continue;
      const set = importers.get(mod) ?? new Set<string>();
      set.add(file);
      importers.set(mod, set);
    }
  }
  const apis = new Set<string>();
  for (const m of code.matchAll(/unsupported-api:([A-Za-z0-9_:/.()-]+)/g)) if (m[1] !== undefined) apis.add(m[1]);
  const locations = new Set<string>();
  for (const file of Object.keys(metafile.inputs)) {
    const m = /^(?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (m) locations.add(file.slice(0, file.lastIndexOf(`node_modules/${m[1]}/`)) + `node_modules/${m[1]}`);
  }
  const shimUse = (f: string) => Object.keys(metafile.inputs).some((k) => k.endsWith(`shims/${f}`));
  return {
    code,
    unsupportedModules: [...importers.entries()].map(([module, files]) => ({ module, importers: [...files].sort() })).sort((a, b) => (a.module < b.module ? -1 : 1)),
    unsupportedApis: [...apis].sort(),
    bundledLocations: [...locations].sort(),
    uses: { fetch: /\bfetch\s*\(/.test(code), fs: shimUse('fs-promises.js') },
  };
}
