/**
 * Reading the organisation policy files: the system-wide managed file (root's, where the user cannot
 * write), the files given with --policy, and $MCP_WARDEN_POLICY (for clients that launch serve). Each is
 * one layer of the policy in force (host/policy/check.ts: every layer must allow).
 *
 * Threat: the policy exists to bind a user who may not want it. So it fails closed: a file that is present
 * but unreadable, not JSON, off-schema, or that someone other than its owner (root, or for an extra file
 * the user) can write, refuses with POLICY_INVALID, and the command stops. Only a missing SYSTEM file means
 * "no system policy"; a missing --policy file is an error. The user chooses extra files, so they can only
 * add restrictions; nothing the user sets (flags, environment, config.json) can skip the system file.
 * What this cannot stop: a user who is root/administrator (docs/threat-model.md).
 */
import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, resolve, win32 } from 'node:path';
import { parseFsGrant } from '../../runtime/index.ts';
import { HostError, errnoOf, isHostError } from '../errors.ts';
import { parsePolicy } from './parse.ts';
import type { FsCeiling, OrgPolicy, PolicyLayer } from './parse.ts';

/** The environment variable naming one extra policy file. */
export const POLICY_ENV = 'MCP_WARDEN_POLICY';

/** Largest policy file read. */
const MAX_POLICY_BYTES = 1024 * 1024;

/** Where the system-wide managed policy lives on this platform. */
export function systemPolicyPath(platform: NodeJS.Platform = process.platform, env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (platform === 'darwin') return '/Library/Application Support/mcp-warden/policy.json';
  if (platform === 'win32') return win32.join(env.ProgramData ?? 'C:\\ProgramData', 'mcp-warden', 'policy.json');
  return '/etc/mcp-warden/policy.json';
}

export interface PolicySources {
  /** The system-wide file (default: systemPolicyPath()); null: none (tests of extra files only). */
  readonly systemFile?: string | null;
  /** Who may own the system file and its directory (default: root only). Tests pass their own uid. */
  readonly systemOwners?: readonly number[];
  /** --policy files, then $MCP_WARDEN_POLICY, as absolute paths. */
  readonly extraFiles?: readonly string[];
}

function invalid(path: string, message: string): HostError {
  return new HostError('POLICY_INVALID', `policy ${path}: ${message}`);
}

function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/** Why `info` may not be believed: owned by someone not in `owners`, or writable by its group or others. */
function unsafe(info: Pick<Stats, 'uid' | 'mode'>, owners: readonly number[]): string | null {
  if (!owners.includes(info.uid)) return `is owned by uid ${info.uid} (allowed: ${owners.join(', ')})`;
  if ((info.mode & 0o022) !== 0) return `is writable by ${(info.mode & 0o020) !== 0 ? 'its group' : 'others'} (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')})`;
  return null;
}

/** The file (a symlink's owner too) and its directory must be safe; POSIX only. @throws HostError POLICY_INVALID */
async function assertSafe(path: string, info: Stats, owners: readonly number[] | undefined): Promise<void> {
  if (owners === undefined) return;
  const link = await lstat(path);
  const why = unsafe(info, owners) ?? (link.isSymbolicLink() ? unsafe({ uid: link.uid, mode: 0 }, owners) : null);
  if (why) throw invalid(path, `${why}: a policy others can change is not believed`);
  const dir = dirname(await realpath(path));
  const dirWhy = unsafe(await stat(dir), owners);
  if (dirWhy) throw invalid(path, `its directory ${dir} ${dirWhy}: a policy others can replace is not believed`);
}

/** The fs ceiling's paths as real paths where they exist (grants are compared after realpath). */
async function realCeiling(fs: FsCeiling | undefined): Promise<FsCeiling | undefined> {
  if (fs?.kind !== 'rules') return fs;
  const rules = await Promise.all(fs.grant.rules.map(async (r) => `${r.access}:${await realpath(r.path).catch(() => r.path)}`));
  return { kind: 'rules', grant: parseFsGrant(rules) };
}

/**
 * One policy file; undefined when it is missing and not `required`.
 * @throws HostError POLICY_INVALID (one line naming the file and what is wrong)
 */
export async function readPolicyFile(path: string, options: { required: boolean; owners?: readonly number[] }): Promise<PolicyLayer | undefined> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT' && !options.required) return undefined;
    throw invalid(path, errnoOf(e) === 'ENOENT' ? 'not found' : `cannot be read (${errnoOf(e)})`);
  }
  if (!info.isFile()) throw invalid(path, 'is not a file');
  if (info.size > MAX_POLICY_BYTES) throw invalid(path, `is larger than ${MAX_POLICY_BYTES} bytes`);
  await assertSafe(path, info, options.owners).catch((e: unknown) => {
    throw isHostError(e) ? e : invalid(path, `cannot be checked (${errnoOf(e)})`);
  });
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw invalid(path, e instanceof SyntaxError ? 'is not valid JSON' : `cannot be read (${errnoOf(e)})`);
  }
  const layer = parsePolicy(json, path);
  const fs = await realCeiling(layer.fs);
  return fs ? { ...layer, fs } : layer;
}

/**
 * The policy in force: the system file (when present) and every extra file (each required), in that order.
 * @throws HostError POLICY_INVALID
 */
export async function loadOrgPolicy(sources: PolicySources = {}): Promise<OrgPolicy> {
  const uid = currentUid();
  const layers: PolicyLayer[] = [];
  const system = sources.systemFile === undefined ? systemPolicyPath() : sources.systemFile;
  if (system !== null) {
    const owners = uid === undefined ? undefined : (sources.systemOwners ?? [0]);
    const layer = await readPolicyFile(system, { required: false, ...(owners ? { owners } : {}) });
    if (layer) layers.push(layer);
  }
  for (const file of sources.extraFiles ?? []) {
    const owners = uid === undefined ? undefined : [...new Set([0, uid])];
    layers.push((await readPolicyFile(file, { required: true, ...(owners ? { owners } : {}) })) as PolicyLayer);
  }
  return { layers };
}

/** The extra policy files of a command: its --policy flags, then $MCP_WARDEN_POLICY, resolved against cwd. */
export function extraPolicyFiles(flags: readonly string[] | undefined, env: Readonly<Record<string, string | undefined>>, cwd: string): string[] {
  const fromEnv = env[POLICY_ENV];
  return [...(flags ?? []), ...(fromEnv ? [fromEnv] : [])].map((f) => resolve(cwd, f));
}
