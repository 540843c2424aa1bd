/** The part of pacote (npm's fetcher, no published types) host/wrap uses. */
declare module 'pacote' {
  export interface PacoteOptions {
    readonly cache?: string;
    readonly integrity?: string;
    readonly registry?: string;
    readonly offline?: boolean;
    readonly preferOffline?: boolean;
    readonly fullMetadata?: boolean;
  }
  export interface Manifest {
    readonly name: string;
    readonly version: string;
    readonly dependencies?: Readonly<Record<string, string>>;
    readonly optionalDependencies?: Readonly<Record<string, string>>;
    readonly peerDependencies?: Readonly<Record<string, string>>;
    readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>;
    readonly bin?: string | Readonly<Record<string, string>>;
    readonly _integrity?: string;
    readonly _resolved?: string;
    readonly dist?: { readonly integrity?: string; readonly tarball?: string };
  }
  export function manifest(spec: string, opts?: PacoteOptions): Promise<Manifest>;
  export function extract(spec: string, dest: string, opts?: PacoteOptions): Promise<{ from: string; resolved: string; integrity: string }>;
  const pacote: { manifest: typeof manifest; extract: typeof extract };
  export default pacote;
}
