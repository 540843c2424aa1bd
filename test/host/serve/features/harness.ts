/** The feature handlers over real packages, a real registry and the real sandbox (no mocks). */
import { join } from 'node:path';
import { DEFAULT_DLP_POLICY } from '../../../../runtime/index.ts';
import type { CapabilityEvent, DlpPolicy } from '../../../../runtime/index.ts';
import { homeLayout } from '../../../../host/home/home.ts';
import type { Audit } from '../../../../host/serve/audit.ts';
import type { CallRecord, DlpRecord } from '../../../../host/serve/audit-records.ts';
import { createFeatures } from '../../../../host/serve/features/index.ts';
import type { CallContext, FeatureDeps, Features } from '../../../../host/serve/features/index.ts';
import { loadAll } from '../../../../host/serve/loader.ts';
import type { RefusedPackage } from '../../../../host/serve/loader.ts';
import { createLogger } from '../../../../host/serve/logger.ts';
import { createRedactor } from '../../../../host/serve/redact.ts';
import type { RedactorOptions } from '../../../../host/serve/redact.ts';
import { createRegistry } from '../../../../host/serve/registry.ts';
import { tempDir } from '../../../helpers/host.ts';
import { newSandbox } from '../../../helpers/sandbox.ts';

export const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'packages');

export interface Harness {
  readonly features: Features;
  readonly deps: FeatureDeps;
  readonly calls: CallRecord[];
  /** The `dlp` audit records. */
  readonly dlp: DlpRecord[];
  readonly refused: RefusedPackage[];
  close(): Promise<void>;
}

/** An Audit that keeps its records in memory (the audit file itself is tested in audit.test.ts). */
function memoryAudit(calls: CallRecord[], dlp: DlpRecord[]): Audit {
  return {
    call: (r) => calls.push(r),
    dlp: (r) => dlp.push(r),
    capability: (_pkg: string, _tool: string, _e: CapabilityEvent) => {},
    pkg: () => {},
    digest: (args) => JSON.stringify(args).length.toString(),
    drain: async () => {},
    close: async () => {},
  };
}

/** `dlp`: every package's DLP actions over the defaults (as the home's config would set them). */
export async function harness(dirs: readonly string[], prefix = true, redaction: RedactorOptions = {}, dlp?: Partial<DlpPolicy>): Promise<Harness> {
  const home = homeLayout(tempDir('warden-features-home-'));
  const sources = dirs.map((dir) => ({ kind: 'dev' as const, dir, grantOverrides: { slots: {} } }));
  const loaded = await loadAll(sources, { home, verify: async () => { throw new Error('dev only'); }, prefix });
  const { refused } = loaded;
  const packages = dlp === undefined ? loaded.packages : loaded.packages.map((p) => ({ ...p, grant: { ...p.grant, dlp: { ...DEFAULT_DLP_POLICY, ...dlp } } }));
  const calls: CallRecord[] = [];
  const dlpRecords: DlpRecord[] = [];
  const sandbox = newSandbox();
  const deps: FeatureDeps = { registry: createRegistry(packages), sandbox, audit: memoryAudit(calls, dlpRecords), logger: createLogger({ level: 'silent' }), redact: createRedactor(redaction) };
  return { features: createFeatures(deps), deps, calls, dlp: dlpRecords, refused, close: () => sandbox.close() };
}

export function callContext(extra: Partial<CallContext> = {}): CallContext {
  return { signal: new AbortController().signal, ...extra };
}

/** The JSON-RPC code and our stable code of a rejected feature call. */
export async function wireErrorOf(p: Promise<unknown>): Promise<{ code: number | string; data?: unknown; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code: number; data?: unknown; message: string };
    return { code: err.code, data: err.data, message: err.message };
  }
  return { code: 'OK', message: '' };
}
