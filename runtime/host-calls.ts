/**
 * The host side of capability requests: a tool's fetch or file access arrives here from its worker, is
 * checked against the call's grant (by the pure checks inside guardedFetch / createFileAccess, on every
 * call) and performed by the host. The worker itself holds no file or network rights.
 */
import type { ConsentDecision, ConsentHook, ConsentRequest, Grant } from './api.ts';
import { fsAccessOf, fsGrantWith, isEmptyAskGrant, matchFsAsk, matchNetAsk, netGrantWith } from './capabilities/ask.ts';
import type { AskMatch } from './capabilities/ask.ts';
import { checkFs, normalizeAbsolutePath } from './capabilities/fs.ts';
import type { FsGrant } from './capabilities/fs.ts';
import { checkNetTarget, parseTarget, targetOrigin } from './capabilities/net.ts';
import type { NetGrant } from './capabilities/net.ts';
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
  /** The host's answer to the grant's ask rules (RunOptions.consent); absent: CONSENT_REQUIRED. */
  readonly consent?: ConsentHook;
  /** Moves the call's wall-clock deadline by `ms` (host watchdog and worker): the time a human answers is not the call's. */
  readonly extendDeadline?: (ms: number) => void;
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
  const files = await filesModule;
  return files.createFileAccess(ctx.grant.fs, { limits: ctx.limits, onEvent: ctx.onEvent, ...(ctx.consent ? { budget: budgetOf(ctx, files) } : {}) });
}

// The write budget of a call that may be widened by consent: one per call (its consent hook), over the
// package's grant, shared by its file accesses under the grant and under each widened grant.
const budgets = new WeakMap<ConsentHook, InstanceType<FilesModule['WriteBudget']>>();

function budgetOf(ctx: HostCallContext, files: FilesModule): InstanceType<FilesModule['WriteBudget']> {
  const hook = ctx.consent as ConsentHook;
  let budget = budgets.get(hook);
  if (budget === undefined) budgets.set(hook, (budget = new files.WriteBudget(ctx.grant.fs, ctx.limits)));
  return budget;
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
    // A file operation the grant refuses but an asked rule covers runs, if the user agrees, on a file access
    // whose grant has that rule added (runtime/capabilities/ask.ts); its real path is checked there as ever.
    if (op.startsWith('fs.') && !isEmptyAskGrant(ctx.grant.ask)) {
      const widened = await fsGrantAfterConsent(ctx, op, args.path);
      if (widened !== ctx.grant.fs) files = () => fileAccessWith(ctx, widened);
    }
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
  const method = typeof args.method === 'string' ? args.method : 'GET';
  const net = isEmptyAskGrant(ctx.grant.ask) ? ctx.grant.net : await netGrantAfterConsent(ctx, str(args.url), method);
  fetchModule ??= import('./io/fetch.ts');
  const { guardedFetch } = await fetchModule;
  const res = await guardedFetch(
    net,
    { url: str(args.url), method, headers, body: body ?? null },
    { limits: ctx.limits, signal: ctx.signal, resolve: ctx.resolve, onEvent: ctx.onEvent, breaker: ctx.breaker, ...(ctx.grant.dlp ? { dlp: ctx.grant.dlp } : {}), ...(ctx.grant.secrets ? { secrets: ctx.grant.secrets } : {}) },
  );
  const meta = { status: res.status, statusText: res.statusText, url: res.url, redirected: res.redirected, headers: res.headers };
  return { json: JSON.stringify(meta), bytes: res.body };
}

function str(v: unknown): string {
  if (typeof v !== 'string') throw new SandboxError('CAPABILITY_FAILED', 'malformed host call');
  return v;
}

// Grants widened by one consented rule, kept per base grant and rule: the cumulative write quota is counted
// per grant object, so every call allowed the same rule shares one quota, as calls of one grant do.
const widenedNet = new WeakMap<NetGrant, Map<string, NetGrant>>();
const widenedFs = new WeakMap<FsGrant, Map<string, FsGrant>>();
// The file access of a call under a widened grant, per call (its consent hook) and grant.
const widenedFiles = new WeakMap<ConsentHook, Map<FsGrant, Promise<FileAccess>>>();

function cached<G extends object>(map: WeakMap<G, Map<string, G>>, base: G, key: string, make: () => G): G {
  let byRule = map.get(base);
  if (byRule === undefined) map.set(base, (byRule = new Map()));
  let g = byRule.get(key);
  if (g === undefined) byRule.set(key, (g = make()));
  return g;
}

async function fileAccessWith(ctx: HostCallContext, fs: FsGrant): Promise<FileAccess> {
  const hook = ctx.consent as ConsentHook;
  let perCall = widenedFiles.get(hook);
  if (perCall === undefined) widenedFiles.set(hook, (perCall = new Map()));
  let access = perCall.get(fs);
  if (access === undefined) {
    filesModule ??= import('./io/files.ts');
    access = filesModule.then((files) => files.createFileAccess(fs, { limits: ctx.limits, onEvent: ctx.onEvent, budget: budgetOf(ctx, files) }));
    perCall.set(fs, access);
  }
  return access;
}

/**
 * Asks the host about an asked rule. The call's wall clock stops meanwhile: its deadline (host and worker)
 * moves by the longest wait at once, then back by what was not used. Without a host hook: CONSENT_REQUIRED.
 */
async function consentFor(ctx: HostCallContext, request: ConsentRequest): Promise<ConsentDecision> {
  const hook = ctx.consent;
  if (hook === undefined) {
    return request.refused
      ? { allowed: false, code: 'CONSENT_REFUSED', message: `the user refused ${request.rule}` }
      : { allowed: false, code: 'CONSENT_REQUIRED', message: `${request.rule} is granted only with the user's consent` };
  }
  if (request.refused) return hook.ask(request, ctx.signal);
  const hold = Math.max(0, hook.timeoutMs) + 1000;
  const started = performance.now();
  ctx.extendDeadline?.(hold);
  try {
    return await hook.ask(request, ctx.signal);
  } finally {
    ctx.extendDeadline?.(performance.now() - started - hold);
  }
}

/** The answer to a match: allowed, or the refusal (reported for the audit trail) the tool gets. */
async function decide(ctx: HostCallContext, m: Exclude<AskMatch, null>, kind: 'net' | 'fs', op: string, what: string, target: string, event: string): Promise<void> {
  const decision = await consentFor(ctx, { kind, rule: m.rule.text, op: what, refused: m.kind === 'refused' });
  if (decision.allowed) return;
  ctx.onEvent({ kind, op: event, target, allowed: false, code: decision.code });
  throw new SandboxError('CAPABILITY_DENIED', `${op} denied (${decision.code}): ${decision.message}`);
}

/** The net grant a fetch runs with: the package's, or with the asked rule the user allowed for it. */
async function netGrantAfterConsent(ctx: HostCallContext, url: string, method: string): Promise<NetGrant> {
  const ask = ctx.grant.ask;
  const target = parseTarget(url);
  if (ask === undefined || 'allowed' in target) return ctx.grant.net;
  const m = method.toUpperCase();
  if (checkNetTarget(ctx.grant.net, target, m).allowed) return ctx.grant.net;
  const match = matchNetAsk(ask, target, m);
  if (match === null) return ctx.grant.net;
  const origin = targetOrigin(target);
  await decide(ctx, match, 'net', `fetch to ${origin}`, `${m} ${target.href}`, origin, m);
  return cached(widenedNet, ctx.grant.net, match.rule.text, () => netGrantWith(ctx.grant.net, match.rule));
}

/** The fs grant a file operation runs with: the package's, or with the asked rule the user allowed for it. */
async function fsGrantAfterConsent(ctx: HostCallContext, op: string, rawPath: unknown): Promise<FsGrant> {
  const ask = ctx.grant.ask;
  const path = normalizeAbsolutePath(rawPath);
  if (ask === undefined || path === null) return ctx.grant.fs;
  const access = fsAccessOf(op);
  if (checkFs(ctx.grant.fs, access, path).allowed) return ctx.grant.fs;
  const match = matchFsAsk(ask, access, path);
  if (match === null) return ctx.grant.fs;
  const name = op.slice(3);
  await decide(ctx, match, 'fs', `${name} ${path}`, `${access} ${path}`, path, name);
  return cached(widenedFs, ctx.grant.fs, match.rule.text, () => fsGrantWith(ctx.grant.fs, match.rule));
}
