/**
 * `mcp-warden wrap`: an existing MCP server (written with the TypeScript SDK) made into an ordinary
 * mcp-warden package (docs/wrapping.md). From the registry (NPM-SPEC: the package and its tree fetched
 * with integrity checks, fetch.ts) or a local directory (an author's checkout, resolved in place), bundled
 * into one ES module with the shims (bundle.ts), its tools listed by running it in the sandbox
 * (list-tools.ts), written with a manifest whose `server` entry records the configuration, every bundled
 * package with its integrity, and what the bundle contains that cannot be served.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { DEFAULT_LIMITS } from '../../runtime/index.ts';
import type { Limits } from '../../runtime/index.ts';
import { HostError } from '../errors.ts';
import { namespaceOf, parsePackageManifest } from '../manifest.ts';
import type { BundledPackage, FsRequest, ServerEntry } from '../manifest.ts';
import { bundleServer, serverMain } from './bundle.ts';
import type { BundleResult, ServerConfig } from './bundle.ts';
import { fetchTree } from './fetch.ts';
import type { WrapLock } from './fetch.ts';
import { listServerTools } from './list-tools.ts';

/** Limits of a wrapped server unless the user gives others: its first call starts the server (SDK, zod). */
export const WRAP_DEFAULT_LIMITS: Partial<Limits> = Object.freeze({ memoryMb: 128, cpuMs: 10_000, wallMs: 60_000 });

export interface WrapOptions {
  /** NPM-SPEC (name, name@range, name@version) or a directory ("./x", "/x"). */
  readonly source: string;
  /** Where to write the package (created; must not exist or be empty). */
  readonly out: string;
  /** The package's name (default: "wrapped-" + the server's unscoped name). */
  readonly name?: string;
  readonly fs: readonly FsRequest[];
  readonly net: readonly string[];
  /**
   * Host-bound secrets (docs/secrets.md) the server reads from its environment: each is declared in the
   * manifest, bound to the `net` rules and to one header in `format`; the server's variable of that name
   * holds the placeholder, which the host replaces after the grant and DLP checks (never the value).
   */
  readonly secrets?: Readonly<Record<string, { readonly header: string; readonly format: string }>>;
  readonly config: ServerConfig;
  readonly limits?: Partial<Limits>;
  /** pacote's cache directory (tarballs by integrity). */
  readonly cache: string;
  readonly registry?: string;
  readonly offline?: boolean;
  readonly lock?: WrapLock;
  /** Keep the fetched tree here (to run the server natively for comparison); default: a temporary directory, removed. */
  readonly treeDir?: string;
}

export interface WrapReport {
  readonly name: string;
  readonly version: string;
  readonly out: string;
  readonly server: BundledPackage;
  readonly tools: readonly string[];
  readonly prompts: readonly string[];
  readonly resources: readonly string[];
  readonly dependencies: readonly BundledPackage[];
  readonly unsupportedModules: BundleResult['unsupportedModules'];
  readonly unsupportedApis: readonly string[];
  readonly suggestions: readonly string[];
  readonly skippedOptional: readonly string[];
  readonly bundleBytes: number;
  /** The fetched tree (when kept) and the server's main file in it. */
  readonly treeDir?: string;
  readonly mainFile: string;
  /** The resolved tree as a lock (npm form), to pin a later wrap. */
  readonly lock?: WrapLock;
}

export function isDirectorySource(source: string): boolean {
  return source.startsWith('.') || isAbsolute(source) || source.startsWith('~');
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new HostError('PACKAGE_INVALID', `cannot read ${path}`);
  }
}

function suggestionsOf(b: BundleResult, o: WrapOptions): string[] {
  const out: string[] = [];
  if (b.uses.fs && o.fs.length === 0) out.push('the server uses the file system: grant it a directory (--fs SLOT:write) and point it there (--arg "${SLOT}" or --env NAME="${SLOT}/file")');
  if (b.uses.fetch && o.net.length === 0) out.push('the server uses fetch: grant the hosts it needs (--net HOST)');
  for (const m of b.unsupportedModules) out.push(`${m.module} cannot be served: calls that reach it fail with UNSUPPORTED_API (imported by ${m.importers.slice(0, 3).join(', ')}${m.importers.length > 3 ? ', …' : ''})`);
  return out.slice(0, 32);
}

/** @throws HostError USAGE, FETCH_FAILED, INTEGRITY_MISMATCH, PACKAGE_INVALID, MANIFEST_INVALID */
export async function wrap(o: WrapOptions): Promise<WrapReport> {
  const out = resolve(o.out);
  const existing = await stat(out).catch(() => null);
  if (existing !== null) throw new HostError('PATH_INVALID', `${o.out} already exists: wrap writes a new package directory`);
  const work = await mkdtemp(join(tmpdir(), 'mcp-warden-wrap-'));
  const treeDir = o.treeDir ?? join(work, 'tree');
  try {
    let rootDir: string;
    let lock: WrapLock | undefined;
    const byLocation = new Map<string, BundledPackage>();
    if (isDirectorySource(o.source)) {
      rootDir = resolve(o.source);
    } else {
      await mkdir(treeDir, { recursive: true });
      const tree = await fetchTree(o.source, treeDir, { cache: o.cache, ...(o.registry ? { registry: o.registry } : {}), ...(o.offline ? { offline: true } : {}), ...(o.lock ? { lock: o.lock } : {}) });
      rootDir = join(treeDir, tree.root.location);
      for (const p of tree.packages) byLocation.set(p.location, { name: p.name, version: p.version, integrity: p.integrity });
      lock = { lockVersion: 1, root: tree.root.name, packages: tree.packages, skippedOptional: tree.skippedOptional };
    }
    const pj = await readJson(join(rootDir, 'package.json'));
    if (typeof pj.name !== 'string' || typeof pj.version !== 'string') throw new HostError('PACKAGE_INVALID', `${o.source}: package.json has no name or version`);
    const mainFile = join(rootDir, serverMain(pj as { name: string; bin?: string | Record<string, string>; main?: string }));
    const bundleDir = isDirectorySource(o.source) ? rootDir : treeDir;
    let b = await bundleServer(bundleDir, mainFile, o.config, { name: pj.name, version: pj.version }, work);
    const dependencies: BundledPackage[] = [];
    for (const loc of b.bundledLocations) {
      const known = byLocation.get(loc);
      if (known !== undefined) { dependencies.push(known); continue; }
      const dep = await readJson(join(bundleDir, loc, 'package.json'));
      dependencies.push({ name: String(dep.name), version: String(dep.version) });
    }
    dependencies.sort((a, c) => (a.name === c.name ? (a.version < c.version ? -1 : 1) : a.name < c.name ? -1 : 1));
    const serverPkg: BundledPackage = byLocation.get(`node_modules/${pj.name}`) ?? { name: pj.name, version: pj.version };
    const limits = { ...WRAP_DEFAULT_LIMITS, ...(o.limits ?? {}) };
    const slots = o.fs.flatMap((r) => (typeof r === 'string' ? [] : [r.slot]));
    const { tools, prompts, resourceTemplates } = await listServerTools(b.code, slots, { ...DEFAULT_LIMITS, ...limits });
    if (tools.length === 0) throw new HostError('PACKAGE_INVALID', `${pj.name} serves no tools: there is nothing to wrap`);
    // Its prompts and resources are served by handlers that forward prompts/get and resources/read: bundled again with them.
    if (prompts.length > 0 || resourceTemplates.length > 0) b = await bundleServer(bundleDir, mainFile, o.config, { name: pj.name, version: pj.version }, work, prompts.map((p) => p.name), resourceTemplates.length > 0);
    const suggestions = suggestionsOf(b, o);
    const server: ServerEntry = {
      package: serverPkg,
      argv: o.config.argv,
      env: o.config.env,
      cwd: o.config.cwd,
      dependencies: dependencies.filter((d) => !(d.name === serverPkg.name && d.version === serverPkg.version)),
      unsupported: b.unsupportedApis,
      suggestions,
    };
    const name = o.name ?? `wrapped-${namespaceOf(pj.name)}`;
    const packageJson = {
      name,
      version: pj.version,
      description: `${pj.name}@${pj.version} wrapped by mcp-warden: the server's own code in the sandbox.${typeof pj.description === 'string' ? ` ${pj.description.slice(0, 300)}` : ''}`,
      ...(typeof pj.license === 'string' ? { license: pj.license } : {}),
      type: 'module',
      mcpWarden: {
        manifestVersion: 1,
        entry: 'server.js',
        tools,
        ...(prompts.length > 0 ? { prompts } : {}),
        ...(resourceTemplates.length > 0 ? { resourceTemplates } : {}),
        capabilities: {
          ...(o.net.length > 0 ? { net: o.net } : {}),
          ...(o.fs.length > 0 ? { fs: o.fs } : {}),
          ...(o.secrets !== undefined && Object.keys(o.secrets).length > 0 ? { secrets: Object.fromEntries(Object.entries(o.secrets).map(([n, b]) => [n, { hosts: [...o.net], header: { name: b.header, format: b.format } }])) } : {}),
        },
        limits,
        server,
      },
    };
    parsePackageManifest(packageJson); // what install and serve will check, checked now
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'server.js'), b.code);
    await writeFile(join(out, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
    return {
      name, version: pj.version, out, server: serverPkg, tools: tools.map((t) => t.name), prompts: prompts.map((p) => p.name), resources: resourceTemplates.map((r) => r.uriTemplate), dependencies: server.dependencies,
      unsupportedModules: b.unsupportedModules, unsupportedApis: b.unsupportedApis, suggestions, skippedOptional: lock?.skippedOptional ?? [],
      bundleBytes: Buffer.byteLength(b.code), mainFile, ...(o.treeDir !== undefined ? { treeDir: o.treeDir } : {}), ...(lock ? { lock } : {}),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
