/**
 * Loads tool packages, from a source directory (--dev) or from the home's installed packages, into what
 * the server serves: the entry's code, ajv validators compiled once, the effective grant and limits.
 *
 * Threat: everything in a package is untrusted. The entry must resolve inside the package directory and
 * is size-capped; the manifest is schema-checked (host/manifest.ts); the effective grant is the
 * intersection of what the manifest asks and what the user allowed, never wider than either (Deno's
 * escalation rule). Installed packages pass the verification hook (host/home/verify-installed.ts) first.
 */
import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { denyFsPaths, fsGrantToStrings, netGrantToStrings, parseFsGrant } from '../../runtime/index.ts';
import type { FsGrant, Grant, Limits, PackageCode, SecretDeclaration } from '../../runtime/index.ts';
import { HostError, isHostError } from '../errors.ts';
import type { Home, InstalledPackage } from '../home/home.ts';
import { PACKAGE_LIMITS } from '../pack/limits.ts';
import { effectiveLimits, parsePackageManifest } from '../manifest.ts';
import { definitionsDigest } from '../trust/definitions/pin.ts';
import type { PackageManifest, ServerEntry, ToolSpec } from '../manifest.ts';
import { bindSlots, effectiveGrant, parseRules, requestedNetRules, resolveRules } from './effective-grant.ts';
import { compileTools } from './tool-validators.ts';
import type { LazyValidator } from './tool-validators.ts';
import type { VerifyInstalled } from '../home/verify-installed.ts';
import { assertOutsideProtected, protectedPaths } from '../home/protected.ts';
import { lowerLimits } from './user-settings.ts';
import { loadContent } from './load-content.ts';
import { devAsks, loadAskGrant } from './consent/ask-grant.ts';
import type { LoadedPrompt, LoadedResource, LoadedResourceTemplate } from './load-content.ts';
import type { Icon } from '@modelcontextprotocol/server';
import { assertServeAllowed } from '../policy/enforce.ts';
import { clampLimits } from '../policy/check.ts';
import { NO_POLICY } from '../policy/parse.ts';
import type { OrgPolicy } from '../policy/parse.ts';

/** Packages loaded (verified) at once by loadAll. */
const LOAD_CONCURRENCY = 8;

/** Largest entry file accepted, bytes (the limits shared with pack and install). */
export const MAX_ENTRY_BYTES = PACKAGE_LIMITS.maxEntryBytes;
const MAX_PACKAGE_JSON_BYTES = PACKAGE_LIMITS.maxPackageJsonBytes;

/** What the user allowed a --dev package, from the serve flags. */
export interface DevAllowance {
  /** --grant SLOT=PATH: slot bindings (the manifest's access applies). */
  readonly slots: Readonly<Record<string, string>>;
  /** --allow-net RULE…: when given, the net grant is the manifest's ∩ these; when absent, the manifest's. */
  readonly net?: readonly string[];
  /** --allow-fs RULE…: fixed-path rules the manifest may use. */
  readonly fs?: readonly string[];
}

export type PackageSource =
  | { readonly kind: 'dev'; readonly dir: string; readonly grantOverrides: DevAllowance }
  | { readonly kind: 'installed'; readonly entry: InstalledPackage };

export interface LoadedTool {
  /** The client-visible name, <namespace>__<tool>. */
  readonly fullName: string;
  readonly spec: ToolSpec;
  readonly validateInput: LazyValidator;
  readonly validateOutput?: LazyValidator;
  /** Its icons as served (data: URIs). */
  readonly icons?: readonly Icon[];
}

export interface LoadedPackage {
  readonly name: string;
  readonly version: string;
  readonly namespace: string;
  readonly origin: 'dev' | 'installed';
  readonly code: PackageCode;
  readonly grant: Grant;
  /** The effective grant as rule strings (for logs and the audit trail). */
  readonly grantRules: { readonly net: readonly string[]; readonly fs: readonly string[] };
  readonly limits: Limits;
  readonly tools: readonly LoadedTool[];
  /** The prefix of every URI it serves ("mcp-warden://<namespace>/"), or "" when served without the prefix. */
  readonly uriPrefix: string;
  readonly resources: readonly LoadedResource[];
  readonly resourceTemplates: readonly LoadedResourceTemplate[];
  readonly prompts: readonly LoadedPrompt[];
  /** The secrets its manifest declares (host/secrets/grant.ts puts those with a value into the grant). */
  readonly secrets?: Readonly<Record<string, SecretDeclaration>>;
  /** A wrapped MCP server (docs/wrapping.md): its calls are forwarded (features/server-forward.ts). */
  readonly server?: ServerEntry;
}

export interface RefusedPackage {
  /** The package name, or the source directory when the name is unknown. */
  readonly label: string;
  readonly code: string;
  readonly message: string;
}

export interface LoadOptions {
  readonly home: Home;
  readonly verify: VerifyInstalled;
  /**
   * Serve names and URIs under the package's namespace (default true). false: the package's own tool and
   * prompt names and resource URIs (serve --no-prefix, which allows it for one package only).
   */
  readonly prefix?: boolean;
  /** The organisation policy (host/policy/): refuses what it does not allow, clamps limits. Default: none. */
  readonly policy?: OrgPolicy;
}

function sourceLabel(source: PackageSource): string {
  return source.kind === 'dev' ? `dev package in ${source.dir}` : `${source.entry.name}@${source.entry.version}`;
}

async function readPackageJson(path: string, what: string, verified?: ReadonlyMap<string, Buffer>): Promise<unknown> {
  let text: string;
  try {
    if (verified) {
      const data = verified.get('package.json');
      if (!data || data.length > MAX_PACKAGE_JSON_BYTES) throw new Error('size');
      text = data.toString('utf8');
    } else {
      const info = await stat(path);
      if (!info.isFile() || info.size > MAX_PACKAGE_JSON_BYTES) throw new Error('size');
      text = await readFile(path, 'utf8');
    }
  } catch {
    throw new HostError('PACKAGE_INVALID', `${what}: package.json is missing or too large`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HostError('MANIFEST_INVALID', `${what}: package.json is not valid JSON`);
  }
}

/** Reads the entry file, refusing one that resolves outside the package directory (symlink or path tricks). */
async function readEntry(dir: string, entry: string, what: string): Promise<string> {
  let real: string;
  let root: string;
  try {
    [root, real] = await Promise.all([realpath(dir), realpath(join(dir, entry))]);
  } catch {
    throw new HostError('PACKAGE_INVALID', `${what}: entry file "${entry}" not found`);
  }
  const rel = relative(root, real);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`)) throw new HostError('PACKAGE_INVALID', `${what}: entry file "${entry}" resolves outside the package`);
  const info = await stat(real);
  if (!info.isFile()) throw new HostError('PACKAGE_INVALID', `${what}: entry "${entry}" is not a file`);
  if (info.size > MAX_ENTRY_BYTES) throw new HostError('PACKAGE_INVALID', `${what}: entry file is larger than ${MAX_ENTRY_BYTES} bytes`);
  return readFile(real, 'utf8');
}

/** The entry file from the verified files of an installed package. */
function verifiedEntry(files: ReadonlyMap<string, Buffer>, entry: string, what: string): string {
  const data = files.get(entry);
  if (!data) throw new HostError('PACKAGE_INVALID', `${what}: entry file "${entry}" not found`);
  if (data.length > MAX_ENTRY_BYTES) throw new HostError('PACKAGE_INVALID', `${what}: entry file is larger than ${MAX_ENTRY_BYTES} bytes`);
  return data.toString('utf8');
}

/** `verified`: the package's files as checked by the verification hook (installed packages): read from it, not the disk. */
async function loadFrom(dir: string, source: PackageSource, prefix: boolean, policy: OrgPolicy, verified?: ReadonlyMap<string, Buffer>): Promise<LoadedPackage> {
  const what = sourceLabel(source);
  const pkgJson = await readPackageJson(join(dir, 'package.json'), what, verified);
  let pm: PackageManifest;
  try {
    pm = parsePackageManifest(pkgJson);
  } catch (e) {
    if (isHostError(e)) throw new HostError(e.code, `${what}: ${e.message}`);
    throw e;
  }
  if (source.kind === 'installed' && (pm.name !== source.entry.name || pm.version !== source.entry.version)) {
    throw new HostError('PACKAGE_INVALID', `${what}: its package.json says ${pm.name}@${pm.version}`);
  }
  // Pinned definitions: what the model is told must be what the user consented to (sealed at install).
  if (source.kind === 'installed' && source.entry.definitions !== undefined && definitionsDigest(pm.manifest) !== source.entry.definitions) {
    throw new HostError('DEFINITIONS_CHANGED', `${what}: its tool/prompt/resource definitions differ from the ones consented to at install; install it again to review them`);
  }
  const content = await loadContent(pm, verified ? { verified } : { dir }, prefix, what);
  const tools = compileTools(pm, prefix).map((t) => {
    const icons = content.toolIcons.get(t.spec.name);
    return icons ? { ...t, icons } : t;
  });
  const sourceText = verified ? verifiedEntry(verified, pm.manifest.entry, what) : await readEntry(dir, pm.manifest.entry, what);

  let slots: Record<string, string>;
  let allowedNet: readonly string[];
  let allowedFs: FsGrant;
  if (source.kind === 'dev') {
    const o = source.grantOverrides;
    slots = await bindSlots(pm, o.slots, what);
    // The author runs their own code: by default the network the manifest asks for (host slots as bound).
    allowedNet = o.net ?? requestedNetRules(pm, slots).filter((r) => !devAsks(pm, slots).net.includes(r));
    // The user's slot binding is the allowance for that slot, with the access the manifest declares.
    const slotAllow = pm.manifest.capabilities.fs.flatMap((r) => (typeof r !== 'string' && r.consent !== 'ask' && slots[r.slot] ? [`${r.access}:${slots[r.slot]}`] : []));
    allowedFs = parseFsGrant([...slotAllow, ...fsGrantToStrings(await resolveRules(parseRules(parseFsGrant, o.fs ?? [], 'GRANT_INVALID', what), 'GRANT_INVALID', what))]);
  } else {
    const g = source.entry.grant;
    slots = await bindSlots(pm, g.slots, what);
    allowedNet = g.net;
    allowedFs = await resolveRules(parseRules(parseFsGrant, g.fs, 'GRANT_INVALID', what), 'GRANT_INVALID', what);
  }
  const effective = await effectiveGrant(pm, slots, allowedNet, allowedFs, what);
  const { paths } = effective;
  // The organisation policy, offline at every load: a package installed before it was set is refused here.
  assertServeAllowed(policy, source.kind === 'installed' ? source.entry : undefined, pm, effective.grant, what);
  // Rules asked at first use (docs/consent.md): from the sealed lock entry; a --dev package's from its manifest.
  const ask = await loadAskGrant(source.kind === 'installed' ? source.entry : { asks: devAsks(pm, slots), grant: { net: [], fs: [] } }, what);
  const grant = ask === undefined ? effective.grant : { ...effective.grant, ask };

  const digest = createHash('sha256').update(sourceText).digest('base64url');
  const code: PackageCode = {
    id: `${source.kind}:${pm.name}@${pm.version}#sha256-${digest}`,
    name: pm.name,
    source: sourceText,
    paths,
    // The user may force a fresh context per call (grant --fresh); never the other way round.
    freshContextPerCall: pm.manifest.freshContextPerCall || (source.kind === 'installed' && source.entry.settings?.fresh === true),
  };
  return {
    name: pm.name,
    version: pm.version,
    namespace: pm.namespace,
    origin: source.kind,
    code,
    grant,
    grantRules: { net: netGrantToStrings(grant.net), fs: fsGrantToStrings(grant.fs) },
    // The user may lower limits (grant --limit): min(user, manifest-or-default), itself capped by the host maximums.
    // Then the organisation policy's maximums: min(package's, user's, policy's).
    limits: clampLimits(policy, lowerLimits(effectiveLimits(pm.manifest.limits), source.kind === 'installed' ? source.entry.settings?.limits : undefined)),
    tools,
    uriPrefix: content.uriPrefix,
    resources: content.resources,
    resourceTemplates: content.resourceTemplates,
    prompts: content.prompts,
    ...(pm.manifest.capabilities.secrets === undefined ? {} : { secrets: pm.manifest.capabilities.secrets }),
    ...(pm.manifest.server === undefined ? {} : { server: pm.manifest.server }),
  };
}

/**
 * Loads one package. Installed packages are verified first (the hook throws to refuse).
 * @throws HostError (or the hook's error) when the package must not be served.
 */
export async function loadPackage(source: PackageSource, options: LoadOptions): Promise<LoadedPackage> {
  return loadProtected(source, options, protectedPaths(options.home));
}

/** loadPackage with the protected paths of its load (loadAll resolves them once for all its packages). */
async function loadProtected(source: PackageSource, options: LoadOptions, protectedOfLoad: Promise<string[]>): Promise<LoadedPackage> {
  const pkg = await loadUnchecked(source, options);
  // No grant reaches the home or the trust root: checked on the effective grant's real paths at every
  // load, whoever made the grant (lock, --grant, --allow-fs, a manifest's fixed path); and denied again
  // by the runtime at every file operation, after realpath, so a symlink or a rename made after load
  // cannot lead into it either. denyFsPaths is applied once per grant: the grant's write quota is counted
  // per grant object.
  const protect = await protectedOfLoad;
  for (const rule of pkg.grant.fs.rules) assertOutsideProtected(rule.path, protect, sourceLabel(source));
  return { ...pkg, grant: { ...pkg.grant, fs: denyFsPaths(pkg.grant.fs, protect) } };
}

async function loadUnchecked(source: PackageSource, options: LoadOptions): Promise<LoadedPackage> {
  const prefix = options.prefix ?? true;
  const policy = options.policy ?? NO_POLICY;
  if (source.kind === 'dev') return loadFrom(resolve(source.dir), source, prefix, policy);
  // Verification comes before anything in the package is read; the loader then reads only the verified bytes.
  const verified = await options.verify(source.entry, options.home);
  return loadFrom(verified.dir, source, prefix, policy, verified.files);
}

/** Something only one served package may have: a tool name, a prompt name, or a space of URIs. */
export interface ServedClaim {
  readonly key: string;
  /** For messages: e.g. `tool name "x__y"`. */
  readonly label: string;
  readonly kind: 'tool' | 'prompt' | 'uri';
}

/**
 * What a package claims among the served packages: its tool names, its prompt names, and its resource
 * URIs: with the prefix, the whole "mcp-warden://<namespace>/" space when it serves any resource (two
 * packages folding to one namespace could otherwise answer each other's URIs); without it, each URI
 * and template as written.
 */
export function servedClaims(pkg: LoadedPackage): ServedClaim[] {
  const out: ServedClaim[] = [];
  for (const t of pkg.tools) out.push({ key: `tool:${t.fullName}`, label: `tool name "${t.fullName}"`, kind: 'tool' });
  for (const p of pkg.prompts) out.push({ key: `prompt:${p.fullName}`, label: `prompt name "${p.fullName}"`, kind: 'prompt' });
  if (pkg.resources.length + pkg.resourceTemplates.length > 0) {
    if (pkg.uriPrefix !== '') out.push({ key: `uri:${pkg.uriPrefix}`, label: `resource URIs under "${pkg.uriPrefix}"`, kind: 'uri' });
    else {
      for (const r of pkg.resources) out.push({ key: `uri:${r.uri}`, label: `resource URI "${r.uri}"`, kind: 'uri' });
      for (const t of pkg.resourceTemplates) out.push({ key: `uri:${t.uriTemplate}`, label: `resource template "${t.uriTemplate}"`, kind: 'uri' });
    }
  }
  return out;
}

/**
 * Loads every source; a package that fails is refused (reported, not thrown) and the others load.
 * Installed packages that share a namespaced tool name are all refused (TOOL_NAME_CONFLICT), as are
 * those sharing a prompt name or a URI space (SERVED_NAME_CONFLICT): install refuses a tool-name pair,
 * so a lock holding one was edited, and no order may decide who gets the name.
 * A --dev source that clashes with a loaded package (same name, tool, prompt or URI space) is refused:
 * installed packages come first in `sources` by convention, so a --dev package cannot shadow an installed one.
 */
export async function loadAll(sources: readonly PackageSource[], options: LoadOptions): Promise<{ packages: LoadedPackage[]; refused: RefusedPackage[] }> {
  // Several packages are in flight at once (their waits overlap: with thousands of installed packages a
  // sequential load kept serve busy for many seconds); each one's files are read and hashed synchronously,
  // one package per event-loop turn (host/home/file-digests.ts). Conflicts are then settled in source order.
  const outcomes: (PromiseSettledResult<LoadedPackage> | undefined)[] = new Array(sources.length);
  let next = 0;
  // The home's protected real paths, resolved once for the load (every package is checked against them).
  let protect: Promise<string[]> | undefined;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < sources.length; i = next++) {
      // One package per event-loop turn: its verification reads its files synchronously, and the host
      // keeps answering (initialize, ping) between packages.
      if (i >= LOAD_CONCURRENCY) await new Promise((r) => setImmediate(r));
      try {
        protect ??= protectedPaths(options.home);
        outcomes[i] = { status: 'fulfilled', value: await loadProtected(sources[i] as PackageSource, options, protect) };
      } catch (reason) {
        outcomes[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOAD_CONCURRENCY, sources.length) }, worker));

  const refused: RefusedPackage[] = [];
  const refuse = (source: PackageSource, e: unknown): void => {
    const label = source.kind === 'installed' ? source.entry.name : source.dir;
    const code = (e as { code?: unknown }).code;
    refused.push({ label, code: typeof code === 'string' ? code : 'PACKAGE_INVALID', message: e instanceof Error ? e.message : String(e) });
  };
  // Names and URI spaces claimed by more than one installed package: every claimant is refused.
  const claims = new Map<string, string[]>();
  sources.forEach((source, i) => {
    const outcome = outcomes[i];
    if (source.kind !== 'installed' || outcome?.status !== 'fulfilled') return;
    for (const c of servedClaims(outcome.value)) claims.set(c.key, [...(claims.get(c.key) ?? []), outcome.value.name]);
  });
  const packages: LoadedPackage[] = [];
  const names = new Set<string>();
  const taken = new Set<string>();
  sources.forEach((source, i) => {
    const outcome = outcomes[i] as PromiseSettledResult<LoadedPackage>;
    try {
      if (outcome.status === 'rejected') throw outcome.reason;
      const pkg = outcome.value;
      const mine = servedClaims(pkg);
      if (source.kind === 'installed') {
        // Tool names first: their code (and message) predates prompts and resources.
        const clash = mine.find((c) => c.kind === 'tool' && (claims.get(c.key)?.length ?? 0) > 1) ?? mine.find((c) => (claims.get(c.key)?.length ?? 0) > 1);
        if (clash) {
          const others = (claims.get(clash.key) ?? []).filter((n) => n !== pkg.name).sort();
          throw new HostError(clash.kind === 'tool' ? 'TOOL_NAME_CONFLICT' : 'SERVED_NAME_CONFLICT', `${pkg.name}: ${clash.label} is also claimed by ${others.join(', ')}; both are refused (remove one of them)`);
        }
      }
      if (names.has(pkg.name)) throw new HostError('PACKAGE_CONFLICT', `${pkg.name}: another package with this name is already loaded`);
      const clash = mine.find((c) => taken.has(c.key));
      if (clash) throw new HostError('PACKAGE_CONFLICT', `${pkg.name}: ${clash.label} is already taken by another package`);
      names.add(pkg.name);
      for (const c of mine) taken.add(c.key);
      packages.push(pkg);
    } catch (e) {
      refuse(source, e);
    }
  });
  return { packages, refused };
}
