/**
 * What `mcp-warden serve` does with the home before and around a load: makes sure the home is usable,
 * reads the installed packages of lock.json as load sources, and reports what a load loaded and refused.
 *
 * A refusal is reported at once (stderr and the audit trail), and a loaded package's audit record too:
 * what was loaded and refused is on record before tools/list can answer. The diagnostic log lines of the
 * first load ("package loaded", one per package) are written after the first answer has left (they were
 * ~5–9 ms of a 50-package start-up: pino's serialization and redaction, issue 14).
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { HostError, errnoOf, isHostError } from '../errors.ts';
import { ensureHome, installedPackages, readLock } from '../home/home.ts';
import type { Home } from '../home/home.ts';
import type { Audit } from './audit.ts';
import type { LoadedPackage, PackageSource, RefusedPackage } from './loader.ts';
import type { Logger } from './logger.ts';

/** Where serve writes what the user must read (stderr). */
export interface Diagnostics {
  readonly stderr: { write(text: string): unknown };
}

/** The installed packages of lock.json as load sources; an unusable lock.json serves none (and says why). */
export async function installedSources(home: Home, io: Diagnostics, logger: Logger): Promise<PackageSource[]> {
  try {
    return installedPackages(await readLock(home)).map((entry) => ({ kind: 'installed' as const, entry }));
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    io.stderr.write(`mcp-warden: not serving installed packages: ${isHostError(e) ? `${e.code}: ` : ''}${msg}\n`);
    logger.error({ code: isHostError(e) ? e.code : 'LOCK_INVALID' }, 'lock.json unusable');
    return [];
  }
}

/**
 * Creates the home if missing and checks it is a writable directory.
 * @throws HostError HOME_UNUSABLE, with what to do
 */
export async function prepareHome(home: Home): Promise<void> {
  let info = await stat(home.dir).catch(() => null);
  try {
    // An existing home needs no mkdir (which fails with EEXIST, an error built and thrown at every start),
    // nor a second stat.
    if (!info?.isDirectory()) {
      await ensureHome(home);
      info = await stat(home.dir).catch(() => null);
    }
  } catch (e) {
    const code = errnoOf(e);
    const why = code === 'EEXIST' || code === 'ENOTDIR' || code === 'PATH_INVALID' ? 'it is not a directory' : code === 'EROFS' ? 'the file system is read-only' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOSPC' ? 'the disk is full' : code;
    throw new HostError('HOME_UNUSABLE', `cannot use the home ${home.dir}: ${why}; choose a writable directory with --home or MCP_WARDEN_HOME`);
  }
  if (!info?.isDirectory()) throw new HostError('HOME_UNUSABLE', `cannot use the home ${home.dir}: it is not a directory; choose a directory with --home or MCP_WARDEN_HOME`);
  try {
    await access(home.dir, constants.W_OK);
  } catch (e) {
    const why = errnoOf(e) === 'EROFS' ? 'the file system is read-only' : 'it is not writable';
    throw new HostError('HOME_UNUSABLE', `cannot use the home ${home.dir}: ${why} (the audit log is written there); choose a writable directory with --home or MCP_WARDEN_HOME`);
  }
}

/**
 * Reports a load: each refusal on stderr ("REFUSED …", loud and specific: the user must learn why a tool
 * they installed is missing) and in the audit trail, and each loaded package in the audit trail, now.
 * Returns what writes the "package loaded" log lines: serve's start-up calls it once the first answer
 * is out, a reload at once.
 */
export function reportLoad(packages: readonly LoadedPackage[], refused: readonly RefusedPackage[], io: Diagnostics, audit: Pick<Audit, 'pkg'>, logger: Logger): () => void {
  for (const r of refused) {
    io.stderr.write(`mcp-warden: REFUSED ${r.label}: ${r.code}: ${r.message}\n`);
    audit.pkg({ package: r.label, event: 'refused', code: r.code });
  }
  for (const p of packages) audit.pkg({ package: p.name, event: 'loaded', origin: p.origin, grant: p.grantRules });
  return () => {
    for (const p of packages) logger.info({ package: p.name, version: p.version, origin: p.origin, tools: p.tools.length, grant: p.grantRules }, 'package loaded');
  };
}
