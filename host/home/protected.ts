/**
 * What no grant may ever reach: the home directory (its keys, lock.json, trust.json, installed packages
 * and their signed copies) and the Sigstore trust root shipped in keys/.
 *
 * Threat: a package whose write slot was bound to a directory containing the home (e.g. $HOME) could read
 * the keys and rewrite another installed package and its lock record; one bound inside the home could do
 * the same more directly. A grant is refused when it is made (install --grant, grant, serve --grant and
 * --allow-fs, a manifest's fixed path) and again when serve loads it, each time on real paths (after
 * realpath), compared by whole segments.
 */
import { realpath } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { isWithin } from '../../runtime/index.ts';
import { HostError } from '../errors.ts';
import { PUBLIC_GOOD_TRUSTED_ROOT } from '../signing/trust-root.ts';
import type { Home } from './home.ts';

/** Whether `a` and `b` overlap: equal, or one contains the other (whole segments). Pure. */
export function pathsOverlap(a: string, b: string): boolean {
  // The runtime's segment-wise containment check, on normalized absolute paths.
  const ra = resolve(a);
  const rb = resolve(b);
  return isWithin(ra, rb) || isWithin(rb, ra);
}

async function real(path: string): Promise<string> {
  return realpath(path).catch(() => resolve(path));
}

/** The real paths no grant may overlap, for this home. */
export async function protectedPaths(home: Home): Promise<string[]> {
  return [...new Set([resolve(home.dir), await real(home.dir), await real(dirname(PUBLIC_GOOD_TRUSTED_ROOT))])];
}

/**
 * Refuses a granted directory (a real path) that contains or lies inside a protected path. Pure.
 * @throws HostError GRANT_COVERS_HOME
 */
export function assertOutsideProtected(grantedPath: string, protect: readonly string[], what: string): void {
  const hit = protect.find((p) => pathsOverlap(grantedPath, p));
  if (hit === undefined) return;
  const rel = relative(grantedPath, hit);
  const how = rel === '' ? 'is' : rel.startsWith('..') ? 'is inside' : 'contains';
  throw new HostError('GRANT_COVERS_HOME', `${what}: ${grantedPath} ${how} mcp-warden's home or trust material (${hit}); a package must never reach its keys, lock or other packages — grant a directory that does not contain it`);
}
