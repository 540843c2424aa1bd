import type { Grant, PackageCode, Sandbox, SandboxOptions } from '../../runtime/api.ts';
import type { Limits } from '../../runtime/types.ts';
import { createSandbox } from '../../runtime/index.ts';
import { asyncCodeOf } from './codes.ts';
import { DEFAULT_LIMITS } from '../../runtime/types.ts';

let seq = 0;

/** A package from inline bundle source; each gets a unique id so tests never share isolates by accident. */
export function inlinePackage(source: string, extra: Partial<PackageCode> = {}): PackageCode {
  seq++;
  return { id: `test-${process.pid}-${seq}`, name: `test-pkg-${seq}`, source, ...extra };
}

/** The empty grant: nothing reachable (default deny). */
export const NO_GRANT = { net: { rules: [] }, fs: { rules: [] } } as unknown as Grant;

/** A grant parsed from rule strings, as the host builds it. */
export async function grantOf(net: string[] = [], fs: string[] = []): Promise<Grant> {
  const { parseNetGrant } = await import('../../runtime/capabilities/net.ts');
  const { parseFsGrant } = await import('../../runtime/capabilities/fs.ts');
  const { resolveFsGrant } = await import('../../runtime/io/files.ts');
  return { net: parseNetGrant(net), fs: await resolveFsGrant(parseFsGrant(fs)) };
}

export function limits(overrides: Partial<Limits> = {}): Limits {
  return { ...DEFAULT_LIMITS, cpuMs: 300, wallMs: 3_000, ...overrides };
}

export function newSandbox(options: SandboxOptions = {}): Sandbox {
  return createSandbox({ workers: 2, ...options });
}

/** Resolves to the error code a run rejects with, or 'OK'. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  const code = await asyncCodeOf(() => p);
  return code === '<no error>' ? 'OK' : code;
}
