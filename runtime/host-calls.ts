/**
 * The host side of capability requests: a tool's fetch or file access arrives here from its worker, is
 * checked against the call's grant (by the pure checks inside guardedFetch / createFileAccess, on every
 * call) and performed by the host. The worker itself holds no file or network rights.
 */
import type { Grant } from './api.ts';
import { SandboxError, boundedMessage, isSandboxError } from './errors.ts';
import type * as FetchModuleNs from './io/fetch.ts';
import type * as FilesModuleNs from './io/files.ts';
import type { createFileAccess } from './io/files.ts';
import type { PackageBreaker } from './io/breaker.ts';

type FetchModule = typeof FetchModuleNs;
type FilesModule = typeof FilesModuleNs;
import type { CapabilityEvent, Limits } from './types.ts';

export interface HostCallContext {
  readonly grant: Grant;
  readonly limits: Limits;
  readonly signal: AbortSignal;
  readonly resolve?: (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;
  readonly onEvent: (event: CapabilityEvent) => void;
  /** The calling package's circuit breakers for its fetches. */
  readonly breaker?: PackageBreaker;
}

export interface HostCallResult {
  readonly json: string;
  readonly bytes?: Uint8Array;
}

type FileAccess = ReturnType<typeof createFileAccess>;

// The I/O modules load on first use: a host whose tools never fetch never loads an HTTP client.
let fetchModule: Promise<FetchModule> | null = null;
let filesModule: Promise<FilesModule> | null = null;

/** Builds the per-call file access lazily (the grant's checks run on every operation). */
export async function fileAccessFor(ctx: HostCallContext): Promise<FileAccess> {
  filesModule ??= import('./io/files.ts');
  const { createFileAccess } = await filesModule;
  return createFileAccess(ctx.grant.fs, { limits: ctx.limits, onEvent: ctx.onEvent });
}

/** Runs one capability request. Rejects only with a SandboxError whose message is safe to show the tool. */
export async function runHostCall(
  ctx: HostCallContext,
  files: () => Promise<FileAccess>,
  op: string,
  argsJson: string,
  body: Uint8Array | undefined,
): Promise<HostCallResult> {
  let args: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(argsJson);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    args = parsed as Record<string, unknown>;
  } catch {
    throw new SandboxError('CAPABILITY_FAILED', 'malformed host call');
  }
  try {
    switch (op) {
      case 'fetch':
        return await doFetch(ctx, args, body);
      case 'fs.readFile': {
        const data = await (await files()).readFile(str(args.path), args.utf8 === true ? 'utf8' : null);
        return typeof data === 'string' ? { json: JSON.stringify(data) } : { json: '', bytes: data };
      }
      case 'fs.writeFile':
        await (await files()).writeFile(str(args.path), body ?? new Uint8Array(0));
        return { json: '' };
      case 'fs.readdir':
        return { json: JSON.stringify(await (await files()).readdir(str(args.path))) };
      case 'fs.stat':
        return { json: JSON.stringify(await (await files()).stat(str(args.path))) };
      case 'fs.mkdir':
        await (await files()).mkdir(str(args.path), { recursive: args.recursive === true });
        return { json: '' };
      case 'fs.rm':
        await (await files()).rm(str(args.path), { recursive: args.recursive === true });
        return { json: '' };
      default:
        throw new SandboxError('CAPABILITY_FAILED', 'unknown host call');
    }
  } catch (e) {
    if (isSandboxError(e)) throw new SandboxError(e.code, boundedMessage(e.message, 500));
    // Anything else is a host fault: its message may carry host paths, so it is not passed on.
    throw new SandboxError('CAPABILITY_FAILED', 'the host call failed');
  }
}

async function doFetch(ctx: HostCallContext, args: Record<string, unknown>, body: Uint8Array | undefined): Promise<HostCallResult> {
  const headers: [string, string][] = [];
  if (Array.isArray(args.headers)) {
    for (const h of args.headers) {
      if (Array.isArray(h) && typeof h[0] === 'string' && typeof h[1] === 'string') headers.push([h[0], h[1]]);
    }
  }
  fetchModule ??= import('./io/fetch.ts');
  const { guardedFetch } = await fetchModule;
  const res = await guardedFetch(
    ctx.grant.net,
    { url: str(args.url), method: typeof args.method === 'string' ? args.method : 'GET', headers, body: body ?? null },
    { limits: ctx.limits, signal: ctx.signal, resolve: ctx.resolve, onEvent: ctx.onEvent, breaker: ctx.breaker, ...(ctx.grant.dlp ? { dlp: ctx.grant.dlp } : {}), ...(ctx.grant.secrets ? { secrets: ctx.grant.secrets } : {}) },
  );
  const meta = { status: res.status, statusText: res.statusText, url: res.url, redirected: res.redirected, headers: res.headers };
  return { json: JSON.stringify(meta), bytes: res.body };
}

function str(v: unknown): string {
  if (typeof v !== 'string') throw new SandboxError('CAPABILITY_FAILED', 'malformed host call');
  return v;
}
