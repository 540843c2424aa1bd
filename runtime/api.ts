/**
 * The sandbox's public call surface, as plain types. The implementation is runtime/pool/.
 */
import type { CapabilityEvent, Limits } from './types.ts';
import type { NetGrant } from './capabilities/net.ts';
import type { FsGrant } from './capabilities/fs.ts';
import type { EntryKind } from './entry-name.ts';
import type { BreakerConfig } from './io/breaker.ts';
import type { DlpPolicy } from './dlp/policy.ts';
import type { SecretGrant } from './capabilities/secrets.ts';
import type { AskGrant } from './capabilities/ask.ts';
import type { ArgsFrame } from './call-args.ts';
import type { CpuBinding } from './pool/cpu-binding.ts';

/** The code of one tool package, as the sandbox receives it. */
export interface PackageCode {
  /** Stable and unique per package version and content, e.g. "weather@1.2.0#sha512-abc…". */
  readonly id: string;
  /** Human name for messages and logs. */
  readonly name: string;
  /** The bundled ES module entry: no imports; its default export maps tool names to handlers. */
  readonly source: string;
  /**
   * Named path slots bound by the user, passed to the tool as ctx.paths: inside the fs grant, or under a rule
   * asked at first use (Grant.ask), which the first access asks about.
   */
  readonly paths?: Readonly<Record<string, string>>;
  /** Give every call a fresh context (for sensitive tools); default is a warm context per package. */
  readonly freshContextPerCall?: boolean;
}

/** The effective grant of a package: what its manifest asks ∩ what the user allowed. */
export interface Grant {
  readonly net: NetGrant;
  readonly fs: FsGrant;
  /** DLP: the package's action per detector for what its fetches send (runtime/dlp); absent: the defaults. */
  readonly dlp?: DlpPolicy;
  /**
   * Secrets (docs/secrets.md): the manifest's bindings ∩ the values the user provided. Held by the host
   * only (a Grant never crosses into a worker); fetch substitutes them for placeholders.
   */
  readonly secrets?: SecretGrant;
  /**
   * Rules asked at first use (docs/consent.md): not granted; a request the grant refuses that one of them
   * admits is put to RunOptions.consent, and runs with that rule added only if the answer allows it.
   */
  readonly ask?: AskGrant;
}

/** Codes of a capability refused for want of consent (docs/consent.md). */
export type ConsentDenyCode = 'CONSENT_REQUIRED' | 'CONSENT_REFUSED' | 'CONSENT_DENIED' | 'CONSENT_TIMEOUT';

/** A request that needs the user's answer: which asked rule, and what the call is doing. */
export interface ConsentRequest {
  readonly kind: 'net' | 'fs';
  /** The asked rule, canonical ("api.example.com", "write:/home/u/notes"). */
  readonly rule: string;
  /** What the call is doing: "GET https://api.example.com/v1/x", "write /home/u/notes/a.txt". */
  readonly op: string;
  /** The user refused the rule before ("never"): answer without asking. */
  readonly refused: boolean;
}

export type ConsentDecision = { readonly allowed: true } | { readonly allowed: false; readonly code: ConsentDenyCode; readonly message: string };

/**
 * The host's side of consent for one call. While `ask` is pending the call's wall clock is stopped (the
 * host and the worker move the call's deadline by the time waited), so a human answering is not a timeout;
 * the host bounds the wait itself by `timeoutMs` (CONSENT_TIMEOUT).
 */
export interface ConsentHook {
  readonly timeoutMs: number;
  /** `signal` aborts when the call ends (cancelled, or a limit): the question is then withdrawn. */
  ask(request: ConsentRequest, signal: AbortSignal): Promise<ConsentDecision>;
}

export interface ProgressEvent {
  readonly progress: number;
  readonly total?: number;
  readonly message?: string;
}

/** The MCP (syslog) log levels, lowest first. A tool's ctx.log('warn', …) arrives as 'warning'. */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogEvent {
  readonly level: LogLevel;
  readonly message: string;
  readonly data?: unknown;
}

export interface RunOptions {
  /**
   * What to run: a tool (the default export's handler, the default), or a handler of the module's named
   * export `resources`, `prompts` or `completions`. Same grant, limits, queue and reporting either way.
   */
  readonly kind?: EntryKind;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: ProgressEvent) => void;
  readonly onLog?: (event: LogEvent) => void;
  readonly onCapability?: (event: CapabilityEvent) => void;
  /**
   * Tools only: a call that follows the tool's `ctx.inputRequired`, with the client's answers and the
   * tool's verified `requestState` (the host checked both; they reach the tool as ctx.inputResponses and
   * ctx.requestState). They count towards the input limit with the arguments.
   */
  readonly input?: { readonly responses: Readonly<Record<string, unknown>>; readonly state?: string };
  /** Asks the user about the grant's ask rules (docs/consent.md); absent: an ask rule is refused with CONSENT_REQUIRED. */
  readonly consent?: ConsentHook;
  /**
   * `frameArgs(args, limits.inputBytes)` (runtime/call-args.ts), when the caller has made it (the host MACs
   * its text, when that is the arguments' JSON, for the audit trail): sent as it is instead of serializing
   * the arguments again. It must be made from exactly these arguments. Absent: their JSON.
   */
  readonly argsFrame?: ArgsFrame;
  /**
   * A result whose JSON text this accepts is not parsed in the host: RunResult.value is then undefined and
   * RunResult.json carries the text (parsing a 1 MB result costs ~20 ms). For a caller that only forwards
   * the text (host/serve/output.ts: a plain tool result); the output limit applies as always.
   */
  readonly keepJson?: (json: string) => boolean;
}

export interface RunResult {
  /**
   * The tool's result, parsed from the bounded JSON the isolate produced (undefined → null); undefined
   * when RunOptions.keepJson accepted that JSON (not parsed: see `json`).
   */
  readonly value: unknown;
  /** Byte length of that JSON. */
  readonly outputBytes: number;
  /**
   * That JSON text (the isolate's own JSON.stringify of the value, so JSON.stringify(value) gives the same
   * text): the host may send it as it is rather than serialize the parsed value again. Absent after
   * ctx.inputRequired.
   */
  readonly json?: string;
  readonly durationMs: number;
  /** The tool returned `ctx.inputRequired(…)`: value is `{ inputRequests?, requestState? }` as the tool gave it (unchecked). */
  readonly inputRequired?: true;
}

export interface SandboxStats {
  readonly workers: number;
  readonly workerRestarts: number;
  readonly packagesLoaded: number;
  /** Process ids of the live workers (for supervision and diagnostics). */
  readonly workerPids: readonly number[];
}

export interface Sandbox {
  /** Runs one tool call (or handler call, see RunOptions.kind). Rejects with a SandboxError carrying a stable code. */
  run(pkg: PackageCode, tool: string, args: unknown, grant: Grant, limits: Limits, options?: RunOptions): Promise<RunResult>;
  /** Drops a package's isolates (e.g. after uninstall or update). */
  unload(packageId: string): Promise<void>;
  stats(): SandboxStats;
  close(): Promise<void>;
}

export interface SandboxOptions {
  /** Worker processes hosting isolates; default min(4, max(2, CPU count)). */
  readonly workers?: number;
  /**
   * Upper bound of a worker's resident-memory ceiling, MiB. The ceiling itself follows the packages the
   * worker hosts (128 MiB + 3 × each one's memoryMb, plus room for one more); the worker disposes its
   * largest isolate above it and the host kills the worker at 1.5×. Default 1024.
   */
  readonly workerRssMb?: number;
  /**
   * Calls of one package that may wait for one of its `concurrency` running slots; past it a call is
   * refused with the retryable CONCURRENCY_LIMIT. Default 256.
   */
  readonly queueDepth?: number;
  /** How often each worker is pinged, ms. Default 1000. */
  readonly heartbeatIntervalMs?: number;
  /**
   * A worker from which nothing (a pong or any other frame) arrived for this long is killed and replaced,
   * and its calls fail with the retryable WORKER_UNRESPONSIVE, ms. Default 10000 (a loaded machine pauses
   * a process for far less; a tool's code never blocks the worker's event loop).
   */
  readonly heartbeatTimeoutMs?: number;
  /** Extra wall time the host waits past a call's wall limit before it kills the worker, ms. Default 1000. */
  readonly killGraceMs?: number;
  /**
   * Start the worker processes in the background, so the first call of a package pays only for its isolate
   * (a few ms), not for a process start: true = right away; a promise = once it settles (e.g. after the
   * server's start-up, so the spawns do not compete with it). Default false (workers start on first use).
   */
  readonly prewarm?: boolean | PromiseLike<unknown>;
  /**
   * Bind each worker process, every thread of it, to one CPU (Linux, with util-linux's `taskset`; elsewhere,
   * or with one CPU, workers start unbound): a worker's main thread and the thread running a package then
   * hand calls over without waking another CPU (runtime/pool/cpu-binding.ts). Slots go round the CPUs this
   * process may use. Default false; `mcp-warden serve` turns it on (`--no-cpu-binding` turns it off).
   */
  readonly bindWorkers?: boolean;
  /** With bindWorkers: how to bind, in place of what the system offers (runtime/pool/cpu-binding.ts; tests inject one). */
  readonly cpuBinding?: CpuBinding | null;
  /**
   * Circuit breakers of tools' fetches, per package and remote origin (docs/capabilities.md, "Circuit
   * breakers"); plain data, e.g. from parseBreakerConfig. Default: on, 5 failures in a row, 30 s cool-down.
   */
  readonly circuitBreaker?: BreakerConfig;
  /** The breakers' monotonic clock, ms (tests inject one). Default performance.now. */
  readonly breakerClock?: () => number;
  /** Resolver for fetch (tests inject one). */
  readonly resolve?: (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;
  /** Diagnostics of the sandbox itself (worker exits, kills); never tool data. */
  readonly onDiagnostic?: (event: { readonly kind: string; readonly detail: string }) => void;
}
