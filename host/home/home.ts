/**
 * The home directory of mcp-warden and its layout (shared with the install commands of issue 4):
 *
 *   <home>/lock.json                      installed packages (LockFile below)
 *   <home>/packages/<name>@<version>/     an extracted package: package.json + its entry file
 *   <home>/audit.log                      JSON lines (host/serve/audit.ts)
 *   <home>/audit.key                      the key of the audit log's argument digests (0600)
 *   <home>/trust.json                     trusted signers (issue 4)
 *   <home>/lock.key                       the key that seals lock entries (0600, host/home/seal.ts)
 *   <home>/store/<sha512 hex>.tgz         the verified tarball of each installed package, and its
 *   <home>/store/<sha512 hex>.sigstore.json   Sigstore bundle, re-verified when a seal does not check
 *   <home>/store/<sha512 hex>.attestations.json  for a package from npm: its attestations and the
 *   <home>/store/<sha512 hex>.keys.json          registry's keys, re-verified offline at every serve
 *
 * Resolution: --home DIR, else MCP_WARDEN_HOME, else ~/.mcp-warden.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { parseFsRule, parseNetRule } from '../../runtime/index.ts';
import { HostError } from '../errors.ts';
import { parseUserSettings } from '../serve/user-settings.ts';
import type { UserSettings } from '../serve/user-settings.ts';
import { describeAjvError } from '../serve/validation.ts';
import { strictValidator } from './precompiled.ts';
import { makeDirectory, readJsonFile } from './files.ts';
import lockSchemaJson from './lock.schema.json' with { type: 'json' };
import { assertHomeSafe } from './modes.ts';
import type { NpmProvenance } from '../provenance/facts.ts';

export interface Home {
  readonly dir: string;
  readonly lockFile: string;
  readonly packagesDir: string;
  readonly auditLog: string;
  readonly auditKey: string;
  readonly trustFile: string;
  readonly sealKey: string;
  readonly storeDir: string;
}

/** The user's grant for one installed package, recorded at install. */
export interface LockGrant {
  /** Network rules the user allowed. */
  readonly net: readonly string[];
  /** Real file rules the user allowed, e.g. "read:/home/u/proj" (slots already bound). */
  readonly fs: readonly string[];
  /**
   * Slot bindings: a file slot → absolute directory path (passed to the tool as ctx.paths), a host slot →
   * the network rule it was bound to (which must also appear in `net`).
   */
  readonly slots: Readonly<Record<string, string>>;
}

/** Rules by kind, canonical (the lock's `asks` and `refusals`). */
export interface LockRules {
  readonly net: readonly string[];
  readonly fs: readonly string[];
}

export interface LockEntry {
  readonly version: string;
  /** SRI integrity of the installed tarball, e.g. "sha512-…". */
  readonly integrity: string;
  /** The verified signer identity (key name or certificate identity). */
  readonly signer: string;
  /** Relative to the home: "packages/<name>@<version>". */
  readonly dir: string;
  readonly grant: LockGrant;
  /** ISO 8601. */
  readonly installedAt: string;
  /**
   * SRI sha512 of every extracted file, by package-relative path (recorded by install, re-checked by serve
   * in host/home/verify-installed.ts). A lock entry without it is refused at serve.
   */
  readonly files?: Readonly<Record<string, string>>;
  /**
   * SRI sha512 of the tool/prompt/resource definitions the user consented to (host/trust/definitions/pin.ts),
   * sealed with the entry; serve refuses the package when its definitions differ (DEFINITIONS_CHANGED).
   */
  readonly definitions?: string;
  /**
   * Capabilities the manifest marks `"consent": "ask"` (canonical rules, slots bound), sealed with the entry:
   * not granted at install, asked at first use (docs/consent.md). An "always" answer (or `grant --allow`)
   * adds the rule to `grant`; absent: none.
   */
  readonly asks?: LockRules;
  /** Asked rules the user refused ("never", or `grant --deny`): denied with CONSENT_REFUSED, not asked again. */
  readonly refusals?: LockRules;
  /**
   * HMAC-SHA256 of the whole entry under the home's lock.key (host/home/seal.ts): what install verified
   * and the user consented to. An entry another writer changed no longer matches and is refused at serve.
   */
  readonly seal?: string;
  /** The user's own settings for this package (grant --fresh, --limit): host/serve/user-settings.ts. */
  readonly settings?: UserSettings;
  /**
   * For a package installed from an npm registry: its verified provenance (repository, commit, workflow,
   * builder, transparency-log entry), sealed with the entry; `signer` is then its `provenance:[…]` id.
   */
  readonly provenance?: NpmProvenance;
}

export interface LockFile {
  readonly version: 1;
  readonly packages: Readonly<Record<string, LockEntry>>;
}

/** An installed package as the loader sees it: its lock entry plus its name. */
export interface InstalledPackage extends LockEntry {
  readonly name: string;
}

/** The home directory to use. `flag` is the --home value, if any. */
export function resolveHomeDir(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  if (flag) return resolve(cwd, flag);
  const fromEnv = env.MCP_WARDEN_HOME;
  if (fromEnv) return resolve(cwd, fromEnv);
  return join(homedir(), '.mcp-warden');
}

export function homeLayout(dir: string): Home {
  return {
    dir,
    lockFile: join(dir, 'lock.json'),
    packagesDir: join(dir, 'packages'),
    auditLog: join(dir, 'audit.log'),
    auditKey: join(dir, 'audit.key'),
    trustFile: join(dir, 'trust.json'),
    sealKey: join(dir, 'lock.key'),
    storeDir: join(dir, 'store'),
  };
}

/** Creates the home directory (0700: its audit log and lock are the user's business) if it is missing. */
export async function ensureHome(home: Home): Promise<void> {
  await makeDirectory(home.dir, 0o700);
}

/** The lock's `dir` of an installed package, relative to the home: "packages/<name>@<version>". */
export function packageDir(name: string, version: string): string {
  return `packages/${name}@${version}`;
}

const EMPTY_LOCK: LockFile = Object.freeze({ version: 1, packages: Object.freeze({}) });

// Precompiled at build time (scripts/compile-validators.ts); compiled on first use where it is not.
const lockValidator = strictValidator(lockSchemaJson as object, new URL('./lock.validate.cjs', import.meta.url));

/** The published JSON Schema of lock.json. */
export function lockSchema(): unknown {
  return structuredClone(lockSchemaJson);
}

function lockInvalid(message: string): HostError {
  return new HostError('LOCK_INVALID', `lock.json: ${message}`);
}

/** Checks what the schema cannot: `dir` stays under packages/, and every grant rule parses (typed grants). */
function checkEntry(name: string, e: LockEntry): LockEntry {
  const norm = posix.normalize(e.dir);
  if (isAbsolute(e.dir) || norm !== e.dir || !norm.startsWith('packages/')) {
    throw lockInvalid(`entry "${name}".dir must be "packages/<name>@<version>"`);
  }
  try {
    for (const r of [...e.grant.net, ...(e.asks?.net ?? []), ...(e.refusals?.net ?? [])]) parseNetRule(r);
    for (const r of [...e.grant.fs, ...(e.asks?.fs ?? []), ...(e.refusals?.fs ?? [])]) parseFsRule(r);
  } catch (err) {
    throw new HostError('GRANT_INVALID', `lock.json: entry "${name}" has a grant rule that does not parse: ${err instanceof Error ? err.message.slice(0, 200) : 'invalid rule'}`);
  }
  return {
    ...e,
    grant: { net: e.grant.net, fs: e.grant.fs, slots: e.grant.slots ?? {} },
    ...(e.settings !== undefined ? { settings: parseUserSettings(e.settings, name) } : {}),
  };
}

/**
 * Reads lock.json; a missing file is an empty lock. The home must be safe (host/home/modes.ts) and the
 * file must match the published schema (host/home/lock.schema.json) and its grant rules must parse.
 * @throws HostError HOME_UNSAFE, LOCK_INVALID, GRANT_INVALID
 */
export async function readLock(home: Home): Promise<LockFile> {
  await assertHomeSafe(home);
  const data = await readJsonFile(home.lockFile, (why) => lockInvalid(why === 'not-json' ? 'is not valid JSON' : 'cannot be read'));
  if (data === undefined) return EMPTY_LOCK;
  const validateLock = lockValidator();
  if (!validateLock(data)) throw lockInvalid(`does not match its schema: ${describeAjvError(validateLock.errors, 'lock')}`);
  const d = data as { packages: Record<string, LockEntry> };
  const packages: Record<string, LockEntry> = {};
  for (const [name, entry] of Object.entries(d.packages)) packages[name] = checkEntry(name, entry);
  return { version: 1, packages };
}

/** The installed packages of a lock, sorted by name (deterministic load order). */
export function installedPackages(lock: LockFile): InstalledPackage[] {
  return Object.keys(lock.packages)
    .sort()
    .map((name) => ({ name, ...(lock.packages[name] as LockEntry) }));
}
