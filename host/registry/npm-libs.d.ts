/**
 * The few entry points of npm's own libraries that host/registry/ uses (they ship no types). Only what is
 * called is declared; the shapes are those of npm-registry-fetch 20, npm-package-arg 14,
 * npm-pick-manifest 12 and ini 7.
 */
declare module 'npm-registry-fetch' {
  import type { Agent } from 'node:http';
  export interface FetchResponse {
    readonly status: number;
    readonly url: string;
    readonly headers: { get(name: string): string | null };
    readonly body: AsyncIterable<Buffer> & { destroy?(err?: Error): void };
  }
  export interface FetchOptions {
    readonly [key: string]: unknown;
    readonly registry?: string;
    readonly agent?: Agent;
    readonly timeout?: number;
    readonly signal?: AbortSignal;
    readonly headers?: Record<string, string>;
    readonly retry?: { retries: number };
    readonly spec?: string;
    readonly cache?: string;
    readonly preferOnline?: boolean;
  }
  interface RegFetch {
    (uri: string, opts?: FetchOptions): Promise<FetchResponse>;
    pickRegistry(spec: string, opts?: FetchOptions): string;
    getAuth(uri: string, opts?: FetchOptions): { token: string | null; auth: string | null; regKey: string | false };
  }
  const regFetch: RegFetch;
  export default regFetch;
}

declare module 'npm-package-arg' {
  export interface Result {
    readonly type: 'git' | 'tag' | 'version' | 'range' | 'file' | 'directory' | 'remote' | 'alias';
    readonly registry?: boolean;
    readonly name: string | null;
    readonly scope?: string | null;
    readonly escapedName: string | null;
    readonly rawSpec: string;
    readonly fetchSpec: string | null;
    readonly subSpec?: Result;
  }
  function npa(spec: string, where?: string): Result;
  export default npa;
}

declare module 'npm-pick-manifest' {
  export interface PickedManifest {
    readonly name: string;
    readonly version: string;
    readonly [key: string]: unknown;
  }
  function pickManifest(packument: unknown, wanted: string, opts?: { defaultTag?: string; before?: Date | string }): PickedManifest;
  export default pickManifest;
}

declare module 'ini' {
  export function parse(text: string): Record<string, unknown>;
  const ini: { parse: typeof parse };
  export default ini;
}
