/**
 * `install NAME[@RANGE]` / `install npm:NAME[@RANGE]`: the package version fetched from the user's npm
 * registry (host/registry/fetch.ts), as an install source whose evidence is the registry's attestations
 * and keys instead of a bundle file. install (host/install/install.ts) verifies the provenance.
 *
 * Which argument is a registry spec: `npm:…` always; otherwise a path that exists or an URL is a tarball
 * (as before), and what npm-package-arg reads as a registry name, version, range or tag is a registry spec.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fetchNpmPackage } from '../registry/fetch.ts';
import type { FetchNpmOptions } from '../registry/fetch.ts';
import { parseNpmSpec } from '../registry/resolve.ts';
import type { NpmSpec } from '../registry/resolve.ts';
import type { InstallSource } from './source.ts';

/** The registry spec `arg` names, or undefined when it is a tarball path or URL. */
export function registrySpecOf(arg: string, cwd: string): NpmSpec | undefined {
  if (arg.startsWith('npm:')) return parseNpmSpec(arg);
  if (/^[a-z][a-z0-9+.-]*:/i.test(arg)) return undefined;
  try {
    statSync(resolve(cwd, arg));
    return undefined;
  } catch {
    return parseNpmSpec(arg);
  }
}

/**
 * Fetches the package version from the registry.
 * @throws HostError (host/registry/fetch.ts)
 */
export async function readNpmSource(spec: NpmSpec, options: FetchNpmOptions): Promise<InstallSource> {
  const p = await fetchNpmPackage(spec, options);
  return {
    tarball: p.tarball,
    bundleJson: undefined,
    label: `${p.name}@${p.version} from ${p.registry}`,
    npm: { name: p.name, version: p.version, registry: p.registry, attestations: p.attestations, keys: p.keys },
  };
}
