/**
 * The home directory of mcp-warden and its layout (shared with the install commands of issue 4):
 *
 *   <home>/lock.json                      installed packages (LockFile below)
 *   <home>/packages/<name>@<version>/     an extracted package: package.json + its entry file
 *   <home>/audit.log                      JSON lines (host/serve/audit.ts)
 *   <home>/audit.key                      the key of the audit log's argument digests (0600)
 *   <home>/trust.json                     trusted signers (issue 4)
 *
 * Resolution: --home DIR, else MCP_WARDEN_HOME, else ~/.mcp-warden.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { HostError } from '../errors.ts';
import { parseUserSettings } from '../serve/user-settings.ts';
import type { UserSettings } from '../serve/user-settings.ts';

export interface Home {
  readonly dir: string;
  readonly lockFile: string;
  readonly packagesDir: string;
  readonly auditLog: string;
  readonly auditKey: string;
  readonly trustFile: string;
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
  /** The user's own settings for this package (grant --fresh, --limit): host/serve/user-settings.ts. */
  readonly settings?: UserSettings;
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
  };
}

/** Creates the home directory (0700: its audit log and lock are the user's business) if it is missing. */
export async function ensureHome(home: Home): Promise<void> {
  await mkdir(home.dir, { recursive: true, mode: 0o700 });
}

/** The lock's `dir` of an installed package, relative to the home: "packages/<name>@<version>". */
export function packageDir(name: string, version: string): string {
  return `packages/${name}@${version}`;
}

const EMPTY_LOCK: LockFile = Object.freeze({ version: 1, packages: Object.freeze({}) });

function lockInvalid(message: string): HostError {
  return new HostError('LOCK_INVALID', `lock.json: ${message}`);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

/** Validates one lock entry's shape; `dir` must be a relative path under packages/ (never escaping the home). */
function checkEntry(name: string, e: unknown): LockEntry {
  if (e === null || typeof e !== 'object') throw lockInvalid(`entry "${name}" is not an object`);
  const r = e as Record<string, unknown>;
  for (const k of ['version', 'integrity', 'signer', 'dir', 'installedAt'] as const) {
    if (typeof r[k] !== 'string') throw lockInvalid(`entry "${name}".${k} must be a string`);
  }
  const dir = r.dir as string;
  const norm = posix.normalize(dir);
  if (isAbsolute(dir) || norm !== dir || !norm.startsWith('packages/')) {
    throw lockInvalid(`entry "${name}".dir must be "packages/<name>@<version>"`);
  }
  const g = r.grant as Record<string, unknown> | undefined;
  if (!g || typeof g !== 'object' || !isStringArray(g.net) || !isStringArray(g.fs)) throw lockInvalid(`entry "${name}".grant must have net and fs rule lists`);
  const slots = (g.slots ?? {}) as Record<string, unknown>;
  if (typeof slots !== 'object' || Object.values(slots).some((p) => typeof p !== 'string')) {
    throw lockInvalid(`entry "${name}".grant.slots must map slot names to paths or rules`);
  }
  const files = r.files as Record<string, unknown> | undefined;
  if (files !== undefined && (files === null || typeof files !== 'object' || Array.isArray(files) || Object.values(files).some((d) => typeof d !== 'string'))) {
    throw lockInvalid(`entry "${name}".files must map paths to integrities`);
  }
  return {
    version: r.version as string,
    integrity: r.integrity as string,
    signer: r.signer as string,
    dir,
    installedAt: r.installedAt as string,
    grant: { net: g.net, fs: g.fs, slots: slots as Record<string, string> },
    ...(files ? { files: files as Record<string, string> } : {}),
    ...(r.settings !== undefined ? { settings: parseUserSettings(r.settings, name) } : {}),
  };
}

/** Reads lock.json; a missing file is an empty lock. @throws HostError LOCK_INVALID */
export async function readLock(home: Home): Promise<LockFile> {
  let text: string;
  try {
    text = await readFile(home.lockFile, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return EMPTY_LOCK;
    throw lockInvalid('cannot be read');
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw lockInvalid('is not valid JSON');
  }
  const d = data as { version?: unknown; packages?: unknown };
  if (!d || d.version !== 1 || typeof d.packages !== 'object' || d.packages === null) throw lockInvalid('expected { "version": 1, "packages": {…} }');
  const packages: Record<string, LockEntry> = {};
  for (const [name, entry] of Object.entries(d.packages as Record<string, unknown>)) packages[name] = checkEntry(name, entry);
  return { version: 1, packages };
}

/** The installed packages of a lock, sorted by name (deterministic load order). */
export function installedPackages(lock: LockFile): InstalledPackage[] {
  return Object.keys(lock.packages)
    .sort()
    .map((name) => ({ name, ...(lock.packages[name] as LockEntry) }));
}
