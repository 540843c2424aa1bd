/**
 * The API a tool sees inside the mcp-warden sandbox. Nothing of Node exists there: no process, require,
 * Buffer, fs or net. Everything below is provided by the sandbox, and every capability (fetch, file
 * access) is checked by the host against the package's grant on every call.
 *
 * A tool package's entry is an ES module with no imports (bundle your dependencies). Its default export
 * maps each tool name declared in the manifest to a handler:
 *
 *   import type { ToolHandlers } from 'mcp-warden/types/tool-api';
 *   export default {
 *     async search(input, ctx) { ... return { matches }; },
 *   } satisfies ToolHandlers;
 *
 * A handler's return value is serialized as JSON inside the sandbox (a string is returned as text).
 *
 * Named exports serve what the manifest declares besides tools (docs/tool-api.md):
 *
 *   export const resources = { note({ uri, variables }, ctx) { return 'text'; } } satisfies ResourceHandlers;
 *   export const prompts = { summarize(args, ctx) { return { messages: [...] }; } } satisfies PromptHandlers;
 *   export const completions = { noteIds({ argument }, ctx) { return ['a', 'b']; } } satisfies CompletionHandlers;
 */

/** The MCP (syslog) log levels; 'warn' is an alias of 'warning'. Lines reach the client's log when it asked for that level. */
export type LogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'warn' | 'error' | 'critical' | 'alert' | 'emergency';

/** Thrown (rejected) by the injected API; `code` is stable, see docs/errors.md. */
export interface WardenError extends Error {
  readonly code:
    | 'CAPABILITY_DENIED'
    | 'CAPABILITY_FAILED'
    | 'QUOTA_EXCEEDED'
    | 'CANCELLED'
    | (string & {});
}

export interface WardenAbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  onabort: ((event: { type: 'abort' }) => void) | null;
  addEventListener(type: 'abort', listener: (event: { type: 'abort' }) => void): void;
  removeEventListener(type: 'abort', listener: (event: { type: 'abort' }) => void): void;
  throwIfAborted(): void;
}

export interface WardenHeaders {
  get(name: string): string | null;
  has(name: string): boolean;
  set(name: string, value: string): void;
  append(name: string, value: string): void;
  delete(name: string): void;
  forEach(fn: (value: string, name: string) => void): void;
  entries(): IterableIterator<[string, string]>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}

export interface WardenResponse {
  readonly status: number;
  readonly statusText: string;
  readonly ok: boolean;
  readonly url: string;
  readonly redirected: boolean;
  readonly headers: WardenHeaders;
  readonly bodyUsed: boolean;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
  bytes(): Promise<Uint8Array>;
}

export interface WardenRequestInit {
  method?: string;
  /**
   * A secret the manifest declares goes in as the placeholder `{{secret:NAME}}`, the whole value of its
   * bound header (or of its bound query parameter in the URL); the host substitutes the value, which the
   * tool never sees (docs/secrets.md). Elsewhere, or toward an unbound host: rejects with SECRET_NOT_BOUND.
   */
  headers?: Record<string, string> | [string, string][] | WardenHeaders;
  body?: string | ArrayBuffer | ArrayBufferView | URLSearchParams;
  signal?: WardenAbortSignal;
}

/**
 * fetch reaches only the hosts the package was granted; redirects are re-checked at every hop. What comes
 * back has every granted secret's value replaced by `[secret:NAME]`.
 */
export type WardenFetch = (url: string | URL, init?: WardenRequestInit) => Promise<WardenResponse>;

export interface DirEntry {
  readonly name: string;
  readonly kind: 'file' | 'directory' | 'symlink' | 'other';
}

export interface FileStat {
  readonly kind: 'file' | 'directory' | 'symlink' | 'other';
  readonly size: number;
  readonly mtimeMs: number;
}

/** File access within the granted paths only. Paths are absolute; see ctx.paths for bound slots. */
export interface WardenFs {
  readFile(path: string, encoding: 'utf8' | 'utf-8' | { encoding: 'utf8' | 'utf-8' }): Promise<string>;
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: string | ArrayBuffer | ArrayBufferView): Promise<void>;
  readdir(path: string): Promise<DirEntry[]>;
  stat(path: string): Promise<FileStat>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<void>;
  rm(path: string, options?: { recursive?: boolean }): Promise<void>;
}

export interface ToolContext {
  /** Fires when the client cancels the call or the call is stopped. */
  readonly signal: WardenAbortSignal;
  /**
   * Absolute paths of the file slots the user bound (e.g. ctx.paths.workspace). A slot the manifest marks
   * `"consent": "ask"` is here too: the first access under it asks the user (docs/consent.md), and fails
   * with CAPABILITY_DENIED if the answer is no.
   */
  readonly paths: Readonly<Record<string, string>>;
  readonly fetch: WardenFetch;
  readonly fs: WardenFs;
  /**
   * A log line (bounded per call): to the client as notifications/message when it asked for this level,
   * and to the host's log.
   */
  log(level: LogLevel, message: string, data?: unknown): void;
  /** Progress of long work, forwarded to the client when it asked for progress. */
  progress(done: number, total?: number, message?: string): void;
  /**
   * Tools only. Asks the client for input mid-call: return what this gives (`return ctx.inputRequired({…})`)
   * and the host asks the client (an elicitation, a sampling request, the roots list), then calls the tool
   * again with the same arguments, the client's answers in `ctx.inputResponses` and `requestState` in
   * `ctx.requestState`. Throws a TypeError for a malformed request (see docs/tool-api.md for the limits).
   */
  inputRequired(spec: InputRequiredSpec): InputRequiredReturn;
  /**
   * On a call that follows `ctx.inputRequired`: the client's answers, by the keys the tool asked with
   * (plain JSON copied in; untrusted data from the client, check it). Undefined on a first call.
   */
  readonly inputResponses: Readonly<Record<string, InputResponse>> | undefined;
  /** On a call that follows `ctx.inputRequired`: the `requestState` the tool gave, verified by the host. */
  readonly requestState: string | undefined;
}

/** One thing a tool asks the client for (the MCP 2026-07-28 embedded input requests). */
export type InputRequest =
  | { readonly method: 'elicitation/create'; readonly params: ElicitFormParams | ElicitUrlParams }
  | { readonly method: 'sampling/createMessage'; readonly params: Readonly<Record<string, unknown>> }
  | { readonly method: 'roots/list'; readonly params?: Readonly<Record<string, unknown>> };

/** A form elicitation: a message and a flat JSON Schema object of primitive properties. */
export interface ElicitFormParams {
  readonly mode?: 'form';
  readonly message: string;
  readonly requestedSchema: { readonly type: 'object'; readonly properties: Readonly<Record<string, unknown>>; readonly required?: readonly string[] };
}

/** A URL elicitation: the client shows the user a URL to open. */
export interface ElicitUrlParams {
  readonly mode: 'url';
  readonly message: string;
  readonly url: string;
}

export interface InputRequiredSpec {
  /** At most 8 requests, keys like tool names (`[A-Za-z0-9][A-Za-z0-9_-]{0,63}`). */
  readonly inputRequests?: Readonly<Record<string, InputRequest>>;
  /** The tool's own state for the next call (at most 4 KiB); signed by the host, readable by the client. */
  readonly requestState?: string;
}

/** What `ctx.inputRequired` returns: an opaque value the tool returns as its result. */
export interface InputRequiredReturn {
  readonly __inputRequired: true;
}

/** The client's answer to one input request: an elicitation's `{ action, content? }`, a sampling result, `{ roots }`. */
export type InputResponse =
  | { readonly action: 'accept' | 'decline' | 'cancel'; readonly content?: Readonly<Record<string, unknown>> }
  | Readonly<Record<string, unknown>>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a handler may declare any input type
export type ToolHandler<I = any, O = unknown> = (input: I, ctx: ToolContext) => O | Promise<O>;
export type ToolHandlers = Record<string, ToolHandler>;

/** What a resource template's read passes its handler: the package's own URI and the template's variables. */
export interface ResourceRequest {
  readonly uri: string;
  readonly variables: Readonly<Record<string, string | readonly string[]>>;
}

/** One content of a resource read: text, or base64 bytes. The mimeType defaults to the template's. */
export type ResourceContent = string | { readonly text: string; readonly mimeType?: string } | { readonly blob: string; readonly mimeType?: string };

export type ResourceHandler = (request: ResourceRequest, ctx: ToolContext) => ResourceContent | readonly ResourceContent[] | Promise<ResourceContent | readonly ResourceContent[]>;
export type ResourceHandlers = Record<string, ResourceHandler>;

export type PromptContent =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'image' | 'audio'; readonly data: string; readonly mimeType: string }
  | { readonly type: 'resource'; readonly resource: { readonly uri: string; readonly mimeType?: string; readonly text: string } | { readonly uri: string; readonly mimeType?: string; readonly blob: string } };

export interface PromptMessage {
  readonly role: 'user' | 'assistant';
  readonly content: PromptContent;
}

export interface PromptResult {
  readonly description?: string;
  readonly messages: readonly PromptMessage[];
}

/** Produces a prompt from its (already validated) string arguments. */
export type PromptHandler = (args: Readonly<Record<string, string>>, ctx: ToolContext) => PromptResult | Promise<PromptResult>;
export type PromptHandlers = Record<string, PromptHandler>;

export interface CompletionRequest {
  /** The argument (or template variable) being completed and what the user typed so far. */
  readonly argument: { readonly name: string; readonly value: string };
  /** Values of the other arguments already given, when the client sends them. */
  readonly context: { readonly arguments: Readonly<Record<string, string>> };
}

/** At most 100 values are sent to the client. */
export type CompletionResult = readonly string[] | { readonly values: readonly string[]; readonly total?: number; readonly hasMore?: boolean };
export type CompletionHandler = (request: CompletionRequest, ctx: ToolContext) => CompletionResult | Promise<CompletionResult>;
export type CompletionHandlers = Record<string, CompletionHandler>;

declare global {
  /**
   * The current call's context (same object as a handler's ctx). With several calls of a package in
   * flight, code of one call that runs because another resolved a shared promise sees that other call's
   * context here while it is in flight: the handler's ctx is exact, prefer it in shared code.
   */
  const warden: ToolContext;
  const fetch: WardenFetch;
  function setTimeout<A extends unknown[]>(fn: (...args: A) => void, ms?: number, ...args: A): number;
  function clearTimeout(id: number | undefined): void;
  function setInterval<A extends unknown[]>(fn: (...args: A) => void, ms?: number, ...args: A): { id: number };
  function clearInterval(handle: { id: number } | undefined): void;
  function queueMicrotask(fn: () => void): void;
  const console: {
    log(...args: unknown[]): void;
    info(...args: unknown[]): void;
    debug(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
    trace(...args: unknown[]): void;
  };
  class TextEncoder {
    readonly encoding: 'utf-8';
    encode(input?: string): Uint8Array;
  }
  class TextDecoder {
    constructor(label?: 'utf-8' | 'utf8');
    readonly encoding: 'utf-8';
    decode(input?: ArrayBuffer | ArrayBufferView): string;
  }
  class URLSearchParams {
    constructor(init?: string | Record<string, string> | [string, string][]);
    append(name: string, value: string): void;
    delete(name: string): void;
    get(name: string): string | null;
    getAll(name: string): string[];
    has(name: string): boolean;
    set(name: string, value: string): void;
    sort(): void;
    forEach(fn: (value: string, name: string) => void): void;
    keys(): IterableIterator<string>;
    values(): IterableIterator<string>;
    entries(): IterableIterator<[string, string]>;
    [Symbol.iterator](): IterableIterator<[string, string]>;
    readonly size: number;
    toString(): string;
  }
  class URL {
    constructor(input: string, base?: string);
    static canParse(input: string, base?: string): boolean;
    href: string;
    readonly origin: string;
    protocol: string;
    username: string;
    password: string;
    host: string;
    hostname: string;
    port: string;
    pathname: string;
    search: string;
    hash: string;
    readonly searchParams: URLSearchParams;
    toString(): string;
    toJSON(): string;
  }
  const crypto: {
    getRandomValues<T extends ArrayBufferView>(array: T): T;
    randomUUID(): string;
    subtle: { digest(algorithm: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' | { name: string }, data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer> };
  };
}
