/**
 * The tool package manifest: the "mcpWarden" section of package.json (docs/manifest.md, schema in
 * host/manifest.schema.json). Parsing is pure: it validates data and returns typed values; reading files
 * is the loader's job.
 *
 * Threat: a manifest is written by an untrusted author. It is validated against a closed schema
 * (additionalProperties: false), its tool schemas must compile without remote references and without
 * catastrophic regular expressions, and its limits are capped by the host's maximums.
 */
// The one function, not the whole library (~45 modules at every serve's start-up).
import semverValid from 'semver/functions/valid.js';
import { DEFAULT_LIMITS, parseFsRule, parseNetRule, parseSecretBinding } from '../runtime/index.ts';
import type { Limits, SecretDeclaration } from '../runtime/index.ts';
import { HostError } from './errors.ts';
import { parseContent } from './manifest-content.ts';
import type { ContentSpecs, IconSpec } from './manifest-content.ts';
import manifestSchemaJson from './manifest.schema.json' with { type: 'json' };
import { MAX_SCHEMA_BYTES, describeAjvError, findUnsafePattern } from './serve/validation.ts';
import { strictValidator } from './home/precompiled.ts';

/** The package.json key that holds the manifest. */
export const MANIFEST_KEY = 'mcpWarden';

export interface SlotRequest {
  readonly slot: string;
  readonly access: 'read' | 'write';
  readonly description?: string;
  /** "ask": bound at install but not granted; asked at first use (docs/consent.md). */
  readonly consent?: 'ask';
}

export type FsRequest = SlotRequest | string;

/** A host slot: the user binds it to one network rule at install (or with --grant for --dev). */
export interface NetSlotRequest {
  readonly slot: string;
  readonly description?: string;
  /** "ask": bound at install but not granted; asked at first use (docs/consent.md). */
  readonly consent?: 'ask';
}

/** A fixed rule asked at first use: the manifest's `{ "rule": …, "consent": "ask" }`. */
export interface AskRuleRequest {
  readonly rule: string;
  readonly consent: 'ask';
  readonly description?: string;
}

export type NetRequest = NetSlotRequest | string;

export interface ToolAnnotations {
  readonly title?: string;
  readonly readOnlyHint?: boolean;
  readonly destructiveHint?: boolean;
  readonly idempotentHint?: boolean;
  readonly openWorldHint?: boolean;
}

export type JsonSchemaObject = { readonly type: 'object' } & Readonly<Record<string, unknown>>;

export interface ToolSpec {
  readonly name: string;
  readonly title?: string;
  readonly description: string;
  readonly inputSchema: JsonSchemaObject;
  readonly outputSchema?: JsonSchemaObject;
  readonly annotations?: ToolAnnotations;
  readonly icons?: readonly IconSpec[];
}

/** A package bundled into a wrapped server, as wrap fetched it. */
export interface BundledPackage {
  readonly name: string;
  readonly version: string;
  /** SRI sha512 of its tarball; absent for a local directory. */
  readonly integrity?: string;
}

/** The server entry kind: a wrapped MCP server (docs/wrapping.md). */
export interface ServerEntry {
  readonly package: BundledPackage;
  readonly argv?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly dependencies: readonly BundledPackage[];
  readonly unsupported?: readonly string[];
  readonly suggestions?: readonly string[];
}

export interface Manifest extends ContentSpecs {
  readonly entry: string;
  readonly tools: readonly ToolSpec[];
  readonly capabilities: {
    readonly net: readonly NetRequest[];
    readonly fs: readonly FsRequest[];
    /** Named secrets and where they may be sent (docs/secrets.md); absent: none. */
    readonly secrets?: Readonly<Record<string, SecretDeclaration>>;
    /**
     * Fixed rules marked `"consent": "ask"` (docs/consent.md): never granted at install, asked the first time
     * a call needs one. Kept apart from `net`/`fs` (which hold the rules install grants and the slots).
     */
    readonly ask?: { readonly net: readonly AskRuleRequest[]; readonly fs: readonly AskRuleRequest[] };
  };
  readonly limits: Partial<Limits>;
  readonly freshContextPerCall: boolean;
  /** Present for a wrapped MCP server: tools/call is forwarded to the server in the isolate. */
  readonly server?: ServerEntry;
}

/** A package.json with a valid manifest. */
export interface PackageManifest {
  readonly name: string;
  readonly version: string;
  /** The tool-name prefix: unscoped package name, characters outside [A-Za-z0-9-] folded to "-". */
  readonly namespace: string;
  readonly manifest: Manifest;
}

/**
 * The most a manifest may ask for. The published schema's maximums say the same; these caps are applied
 * again when limits are computed so a hand-edited schema cannot widen them.
 */
export const HOST_MAX_LIMITS: Limits = Object.freeze({
  memoryMb: 512,
  cpuMs: 60_000,
  wallMs: 300_000,
  outputBytes: 16 * 1024 * 1024,
  inputBytes: 16 * 1024 * 1024,
  concurrency: 32,
  hostCalls: 100_000,
  logBytes: 1024 * 1024,
  fetchTimeoutMs: 120_000,
  maxRequestBytes: 16 * 1024 * 1024,
  maxResponseBytes: 64 * 1024 * 1024,
  maxReadBytes: 64 * 1024 * 1024,
  maxWriteBytes: 64 * 1024 * 1024,
  writeBytes: 256 * 1024 * 1024,
  grantWriteBytes: 4 * 1024 * 1024 * 1024,
});

// npm's package name rules (lowercase, optional scope, URL-safe), bounded.
const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;
// semver.valid decides (no leading zeros: "1.0.01" is not a version); the shape only refuses what semver
// tolerates around a version ("v1.0.0", " 1.0.0", "=1.0.0").
const SEMVER_SHAPE = /^\d[0-9A-Za-z.+-]*$/;
/** MCP tool names: 1–128 characters of [A-Za-z0-9_.-]; ours are <namespace>__<tool>. */
export const MCP_TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

const schema: unknown = manifestSchemaJson;
// Precompiled at build time (host/home/precompiled.ts), or compiled on first use from the source tree.
const manifestValidator = strictValidator(schema as object, new URL('./manifest.validate.cjs', import.meta.url));

/** The published JSON Schema of the manifest section. */
export function manifestSchema(): unknown {
  return structuredClone(schema);
}

function invalid(message: string): HostError {
  return new HostError('MANIFEST_INVALID', message);
}

/** The namespace of a package name: "@acme/http-json" → "http-json". */
export function namespaceOf(packageName: string): string {
  const unscoped = packageName.includes('/') ? packageName.slice(packageName.indexOf('/') + 1) : packageName;
  return unscoped.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 60) || 'pkg';
}

/**
 * The namespace clients see a package's tools, prompts and resource URIs under: "x" for "x", "good.x"
 * for "@good/x" (scope "." name, each folded to [A-Za-z0-9-]).
 */
export function servedNamespace(packageName: string): string {
  const ns = namespaceOf(packageName);
  const scoped = /^@([^/]+)\//.exec(packageName);
  return scoped ? `${(scoped[1] as string).replace(/[^A-Za-z0-9-]/g, '-').slice(0, 60)}.${ns}` : ns;
}

/**
 * The client-visible tool name of `tool` in package `packageName`: "<name>__<tool>" for an unscoped
 * package, "<scope>.<name>__<tool>" for a scoped one ("@good/read-tools" → "good.read-tools__read_file"),
 * so that packages of different scopes do not collide. Within MCP's tool-name charset [A-Za-z0-9_.-] and
 * 128 characters (a long scope is shortened). Not injective for every pair of names (npm names are
 * longer and richer than tool names), so install refuses a collision (TOOL_NAME_CONFLICT), and serve
 * refuses both packages of one it finds: never resolved by order.
 */
export function namespacedToolName(packageName: string, tool: string): string {
  let prefix = servedNamespace(packageName);
  if (prefix.length + 2 + tool.length > 128) prefix = prefix.slice(0, Math.max(1, 126 - tool.length));
  return `${prefix}__${tool}`;
}

/**
 * Validates a parsed package.json and returns its manifest.
 * @throws HostError MANIFEST_INVALID with a message naming the offending field.
 */
export function parsePackageManifest(pkg: unknown): PackageManifest {
  if (pkg === null || typeof pkg !== 'object' || Array.isArray(pkg)) throw invalid('package.json must be a JSON object');
  const { name, version } = pkg as Record<string, unknown>;
  if (typeof name !== 'string' || name.length > 214 || !PACKAGE_NAME.test(name)) throw invalid('package.json "name" must be a valid npm package name');
  if (typeof version !== 'string' || version.length > 64 || !SEMVER_SHAPE.test(version) || semverValid(version) === null) {
    throw invalid('package.json "version" must be a semantic version (https://semver.org: no leading zeros, no "v" prefix)');
  }
  const section = (pkg as Record<string, unknown>)[MANIFEST_KEY];
  if (section === undefined) throw invalid(`package.json has no "${MANIFEST_KEY}" section`);
  const validateSection = manifestValidator();
  if (!validateSection(section)) throw invalid(describeAjvError(validateSection.errors, MANIFEST_KEY));
  const raw = section as {
    entry: string;
    tools: ToolSpec[];
    capabilities?: { net?: (NetRequest | AskRuleRequest)[]; fs?: (FsRequest | AskRuleRequest)[]; secrets?: Record<string, SecretDeclaration> };
    limits?: Partial<Limits>;
    freshContextPerCall?: boolean;
    server?: ServerEntry;
  } & Parameters<typeof parseContent>[0];

  // The entry must stay inside the package directory.
  if (raw.entry.split('/').some((seg) => seg === '..' || seg === '.' || seg === '')) {
    throw invalid(`${MANIFEST_KEY}.entry must be a relative path inside the package, without "." or ".." segments`);
  }

  const seen = new Set<string>();
  raw.tools.forEach((tool, i) => {
    const at = `${MANIFEST_KEY}.tools[${i}]`;
    if (tool.name.includes('__')) throw invalid(`${at}.name must not contain "__" (it separates the namespace)`);
    if (seen.has(tool.name)) throw invalid(`${at}.name "${tool.name}" is declared twice`);
    seen.add(tool.name);
    for (const key of ['inputSchema', 'outputSchema'] as const) {
      const s = tool[key];
      if (s === undefined) continue;
      if (JSON.stringify(s).length > MAX_SCHEMA_BYTES) throw invalid(`${at}.${key} is larger than ${MAX_SCHEMA_BYTES} bytes`);
      const unsafe = findUnsafePattern(s);
      if (unsafe) throw invalid(`${at}.${key}${unsafe}`);
    }
  });

  // Fixed rules are parsed now, exactly as serve will: a rule serve would refuse never reaches a lock file.
  for (const kind of ['net', 'fs'] as const) {
    (raw.capabilities?.[kind] ?? []).forEach((entry, i) => {
      const r = typeof entry === 'string' ? entry : 'rule' in entry ? entry.rule : null;
      if (r === null) return;
      try {
        if (kind === 'net') parseNetRule(r);
        else parseFsRule(r);
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw invalid(`${MANIFEST_KEY}.capabilities.${kind}[${i}] ${JSON.stringify(r.slice(0, 200))} is not a valid rule: ${why}`);
      }
    });
  }

  // Secret bindings are parsed now, as serve will (hosts in the net rule grammar, one place each).
  for (const [secret, decl] of Object.entries(raw.capabilities?.secrets ?? {})) {
    try {
      parseSecretBinding(secret, decl);
    } catch (e) {
      throw invalid(`${MANIFEST_KEY}.capabilities.secrets.${secret}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  const slots = new Set<string>();
  for (const r of [...(raw.capabilities?.fs ?? []), ...(raw.capabilities?.net ?? [])]) {
    if (typeof r === 'string' || 'rule' in r) continue;
    if (slots.has(r.slot)) throw invalid(`${MANIFEST_KEY}.capabilities declares slot "${r.slot}" twice`);
    slots.add(r.slot);
  }

  const content = parseContent(raw, MANIFEST_KEY);
  const namespace = namespaceOf(name);
  return {
    name,
    version,
    namespace,
    manifest: {
      entry: raw.entry,
      tools: raw.tools,
      capabilities: splitAskRules(raw.capabilities?.net ?? [], raw.capabilities?.fs ?? [], raw.capabilities?.secrets),
      limits: raw.limits ?? {},
      freshContextPerCall: raw.freshContextPerCall ?? false,
      ...(raw.server === undefined ? {} : { server: raw.server }),
      ...content,
    },
  };
}

const isAskRule = (r: NetRequest | FsRequest | AskRuleRequest): r is AskRuleRequest => typeof r !== 'string' && 'rule' in r;

/** The capabilities as parsed: fixed ask rules moved to `ask` (present only when there is one). */
function splitAskRules(net: readonly (NetRequest | AskRuleRequest)[], fs: readonly (FsRequest | AskRuleRequest)[], secrets: Record<string, SecretDeclaration> | undefined): Manifest['capabilities'] {
  const askNet = net.filter(isAskRule);
  const askFs = fs.filter(isAskRule);
  return {
    net: net.filter((r): r is NetRequest => !isAskRule(r)),
    fs: fs.filter((r): r is FsRequest => !isAskRule(r)),
    ...(secrets === undefined ? {} : { secrets }),
    ...(askNet.length + askFs.length > 0 ? { ask: { net: askNet, fs: askFs } } : {}),
  };
}

/** The limits a package runs with: the defaults, overridden by what it asks, each capped by the host maximum. */
export function effectiveLimits(requested: Partial<Limits>): Limits {
  const out: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const want = requested[key];
    if (typeof want === 'number' && Number.isFinite(want)) out[key] = Math.min(Math.max(0, Math.floor(want)), HOST_MAX_LIMITS[key]);
  }
  return out as unknown as Limits;
}
