/**
 * Fetches an npm server package and its dependency tree with npm's own fetcher (pacote): every tarball is
 * checked against the integrity the registry publishes (or the one a lock file pins), and laid out as a
 * node_modules tree (hoisted where versions agree, nested where they conflict) for the bundler.
 *
 * Resolution: dependencies and required peer dependencies, by semver from the registry's manifests;
 * optional dependencies are left out (they are native or platform add-ons in practice) and reported.
 * A lock (`WrapLock`, written by `wrap --write-lock`) pins every package's version, integrity and place,
 * so a wrap from a lock does not resolve anything and, with a warm cache, needs no network.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pacote from 'pacote';
import type { Manifest, PacoteOptions } from 'pacote';
import semver from 'semver';
import { HostError } from '../errors.ts';

/** One package of the fetched tree. */
export interface TreePackage {
  readonly name: string;
  readonly version: string;
  /** The tarball's SRI integrity (sha512), checked when it was extracted. */
  readonly integrity: string;
  /** Its place under the tree's root: "node_modules/a" or "node_modules/a/node_modules/b". */
  readonly location: string;
}

export interface WrapLock {
  readonly lockVersion: 1;
  readonly root: string;
  readonly packages: readonly TreePackage[];
  /** Optional dependencies that were not fetched (name@range). */
  readonly skippedOptional?: readonly string[];
}

export interface FetchedTree {
  /** The directory holding node_modules/. */
  readonly dir: string;
  /** The server package. */
  readonly root: TreePackage;
  readonly packages: readonly TreePackage[];
  readonly skippedOptional: readonly string[];
}

export interface FetchOptions {
  /** pacote's cache (content-addressed by integrity). */
  readonly cache: string;
  readonly registry?: string;
  /** Use only the cache (a lock and a warm cache). */
  readonly offline?: boolean;
  readonly lock?: WrapLock;
}

const MAX_PACKAGES = 2000;

function pacoteOptions(o: FetchOptions, integrity?: string): PacoteOptions {
  return { cache: o.cache, ...(o.registry !== undefined ? { registry: o.registry } : {}), ...(o.offline ? { offline: true } : { preferOffline: true }), ...(integrity !== undefined ? { integrity } : {}) };
}

function fetchFailed(spec: string, e: unknown): HostError {
  const code = (e as { code?: string })?.code;
  if (code === 'EINTEGRITY') return new HostError('INTEGRITY_MISMATCH', `${spec}: the fetched tarball does not match the integrity the registry publishes or the lock pins`);
  const message = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new HostError('FETCH_FAILED', `${spec}: ${(message ?? '').slice(0, 300)}`);
}

async function manifestOf(spec: string, o: FetchOptions): Promise<Manifest> {
  try {
    return await pacote.manifest(spec, pacoteOptions(o));
  } catch (e) {
    throw fetchFailed(spec, e);
  }
}

async function extract(dir: string, p: TreePackage, o: FetchOptions): Promise<void> {
  const dest = join(dir, p.location);
  await mkdir(dest, { recursive: true });
  try {
    await pacote.extract(`${p.name}@${p.version}`, dest, pacoteOptions(o, p.integrity));
  } catch (e) {
    throw fetchFailed(`${p.name}@${p.version}`, e);
  }
}

/** The dependencies a package needs installed beside it: dependencies and non-optional peers. */
function needs(m: Manifest): Array<[string, string]> {
  const out = new Map<string, string>(Object.entries(m.dependencies ?? {}));
  for (const [name, range] of Object.entries(m.peerDependencies ?? {})) {
    if (m.peerDependenciesMeta?.[name]?.optional) continue;
    if (!out.has(name)) out.set(name, range);
  }
  for (const name of Object.keys(m.optionalDependencies ?? {})) out.delete(name);
  return [...out.entries()];
}

function parentsOf(location: string): string[] {
  // "node_modules/a/node_modules/b" → ["node_modules/a/node_modules/b", "node_modules/a", ""]
  const out: string[] = [];
  let at = location;
  for (;;) {
    out.push(at);
    const i = at.lastIndexOf('/node_modules/');
    if (i < 0) break;
    at = at.slice(0, i);
  }
  out.push('');
  return out;
}

/**
 * Resolves `spec` (name, name@range or name@version) and its tree, then extracts every package into
 * `dir`. @throws HostError FETCH_FAILED, INTEGRITY_MISMATCH, PACKAGE_INVALID
 */
export async function fetchTree(spec: string, dir: string, o: FetchOptions): Promise<FetchedTree> {
  const lock = o.lock ?? (await resolveTree(spec, o));
  const root = lock.packages.find((p) => p.location === `node_modules/${lock.root}`);
  if (root === undefined) throw new HostError('PACKAGE_INVALID', `the lock has no entry for its root ${lock.root}`);
  // A few at a time: pacote's cache and the registry both prefer it.
  const queue = [...lock.packages];
  await Promise.all(Array.from({ length: 8 }, async () => {
    for (let p = queue.shift(); p !== undefined; p = queue.shift()) await extract(dir, p, o);
  }));
  return { dir, root, packages: lock.packages, skippedOptional: lock.skippedOptional ?? [] };
}

/** The tree of `spec` from the registry's manifests, as a lock. */
export async function resolveTree(spec: string, o: FetchOptions): Promise<WrapLock> {
  const top = await manifestOf(spec, o);
  const placed = new Map<string, TreePackage & { readonly deps: Array<[string, string]> }>();
  const skipped = new Set<string>();
  const entry = (m: Manifest, location: string) => {
    const integrity = m._integrity ?? m.dist?.integrity;
    if (integrity === undefined || !integrity.startsWith('sha512-')) throw new HostError('INTEGRITY_MISMATCH', `${m.name}@${m.version}: the registry publishes no sha512 integrity for it`);
    for (const name of Object.keys(m.optionalDependencies ?? {})) skipped.add(`${name}@${m.optionalDependencies?.[name]}`);
    return { name: m.name, version: m.version, integrity, location, deps: needs(m) };
  };
  const rootLoc = `node_modules/${top.name}`;
  placed.set(rootLoc, entry(top, rootLoc));
  let level = [rootLoc];
  while (level.length > 0) {
    const next: string[] = [];
    for (const from of level) {
      const parent = placed.get(from);
      if (parent === undefined) continue;
      const wanted = parent.deps.filter(([name, range]) => {
        // Already reachable from here with a satisfying version?
        for (const up of parentsOf(from)) {
          const hit = placed.get(up === '' ? `node_modules/${name}` : `${up}/node_modules/${name}`);
          if (hit !== undefined) return !semver.satisfies(hit.version, range, { includePrerelease: true }) ? true : false;
        }
        return true;
      });
      const manifests = await Promise.all(wanted.map(([name, range]) => manifestOf(`${name}@${range}`, o)));
      for (const m of manifests) {
        const hoisted = `node_modules/${m.name}`;
        if (placed.get(hoisted)?.version === m.version) continue;
        const location = placed.has(hoisted) ? `${from}/node_modules/${m.name}` : hoisted;
        if (placed.has(location)) continue;
        placed.set(location, entry(m, location));
        next.push(location);
        if (placed.size > MAX_PACKAGES) throw new HostError('PACKAGE_INVALID', `${spec} has more than ${MAX_PACKAGES} dependencies`);
      }
    }
    level = next;
  }
  const packages = [...placed.values()].map(({ name, version, integrity, location }) => ({ name, version, integrity, location })).sort((a, b) => (a.location < b.location ? -1 : 1));
  return { lockVersion: 1, root: top.name, packages, skippedOptional: [...skipped].sort() };
}

/** Reads a lock file. @throws HostError USAGE */
export async function readLock(path: string): Promise<WrapLock> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    throw new HostError('USAGE', `cannot read the lock file ${path}`);
  }
  const lock = value as WrapLock;
  const ok = lock !== null && typeof lock === 'object' && lock.lockVersion === 1 && typeof lock.root === 'string' && Array.isArray(lock.packages)
    && lock.packages.every((p) => typeof p?.name === 'string' && typeof p.version === 'string' && typeof p.integrity === 'string' && p.integrity.startsWith('sha512-')
      && typeof p.location === 'string' && /^node_modules\/(?:@[^/]+\/)?[^/]+(?:\/node_modules\/(?:@[^/]+\/)?[^/]+)*$/.test(p.location) && !p.location.split('/').includes('..'));
  if (!ok) throw new HostError('USAGE', `${path} is not a wrap lock (lockVersion 1)`);
  return lock;
}
