/**
 * A real npm registry on 127.0.0.1 for tests: packuments (with dist.integrity, dist.tarball and
 * dist.attestations), tarballs, `/-/npm/v1/keys` and `/-/npm/v1/attestations/NAME@VERSION`, over real HTTP,
 * so the install code runs unchanged (npm's client, the guarded agent, the bounded reads). The
 * attestations are whatever the test publishes (makeNpmAttestations in test/helpers/npm-attestations.ts
 * signs them with the local Sigstore stack).
 *
 * Knobs make it hostile: garbage or an endless body for one kind of document, a wrong dist.integrity, a
 * dist.tarball on another host, a redirect of the tarball elsewhere. Tests point npm at it with a
 * temporary .npmrc (npmrcEnv), never the user's own.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssri from 'ssri';

export type DocumentKind = 'packument' | 'tarball' | 'attestations' | 'keys';

export interface PublishOptions {
  readonly name: string;
  readonly version: string;
  readonly tarball: Buffer;
  /** The attestations document served for this version; omitted: the version has no dist.attestations. */
  readonly attestations?: object;
  /** `dependencies` of the version's packument entry. */
  readonly dependencies?: Record<string, string>;
}

export interface Knobs {
  /** Answer this kind of document with bytes that are not JSON (or, for the tarball, not the tarball). */
  garbage?: DocumentKind;
  /** Answer this kind of document with a 2 GiB body streamed without end (no Content-Length). */
  endless?: DocumentKind;
  /** Answer this kind of document with its headers and a first byte, then nothing (a stalled server). */
  stall?: DocumentKind;
  /** Advertise this dist.integrity instead of the tarball's. */
  wrongIntegrity?: boolean;
  /** Base URL for dist.tarball (default: this registry), e.g. another host name for the same server. */
  tarballBase?: string;
  /** Answer tarball requests with a 302 to this URL. */
  redirectTarballTo?: string;
}

export interface RegistryRequest {
  readonly path: string;
  readonly host: string;
  readonly authorization?: string;
}

export interface NpmRegistry {
  /** http://127.0.0.1:PORT/ */
  readonly url: string;
  readonly port: number;
  readonly knobs: Knobs;
  readonly requests: RegistryRequest[];
  /** The `/-/npm/v1/keys` document (undefined: 404). */
  keys: object | undefined;
  publish(o: PublishOptions): void;
  /** Writes `<dir>/.npmrc` pointing at this registry (plus extra lines) and returns an env for the CLI that uses it and no other npm config. */
  npmrcEnv(dir: string, extra?: readonly string[]): Record<string, string>;
  close(): Promise<void>;
}

interface Published {
  readonly o: PublishOptions;
  readonly integrity: string;
}

const GIB2 = 2 * 1024 * 1024 * 1024;

function streamEndless(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const chunk = Buffer.alloc(1024 * 1024, 0x7b);
  let sent = 0;
  const pump = (): void => {
    while (!res.destroyed && sent < GIB2) {
      sent += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  req.socket.on('close', () => res.destroy());
  pump();
}

export async function startNpmRegistry(): Promise<NpmRegistry> {
  const packages = new Map<string, Map<string, Published>>();
  const knobs: Knobs = {};
  const requests: RegistryRequest[] = [];
  let base = '';
  const state = { keys: undefined as object | undefined };

  const packument = (name: string): object | undefined => {
    const versions = packages.get(name);
    if (!versions) return undefined;
    const tarballBase = knobs.tarballBase ?? base;
    const out: Record<string, object> = {};
    let latest = '';
    for (const [v, p] of versions) {
      latest = v;
      const file = `${name.split('/').pop() as string}-${v}.tgz`;
      out[v] = {
        name,
        version: v,
        ...(p.o.dependencies ? { dependencies: p.o.dependencies } : {}),
        dist: {
          tarball: `${tarballBase}${name}/-/${file}`,
          integrity: knobs.wrongIntegrity ? ssri.fromData(Buffer.from('other bytes'), { algorithms: ['sha512'] }).toString() : p.integrity,
          ...(p.o.attestations ? { attestations: { url: `${base}-/npm/v1/attestations/${encodeURIComponent(name)}@${v}`, provenance: { predicateType: 'https://slsa.dev/provenance/v1' } } } : {}),
        },
      };
    }
    return { name, 'dist-tags': { latest }, versions: out };
  };

  const send = (req: IncomingMessage, res: ServerResponse, kind: DocumentKind, body: Buffer | object | undefined): void => {
    if (knobs.endless === kind) return streamEndless(req, res);
    if (knobs.stall === kind) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
      return;
    }
    if (knobs.garbage === kind) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>this is not json {');
      return;
    }
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"Not found"}');
      return;
    }
    const data = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    res.writeHead(200, { 'content-type': Buffer.isBuffer(body) ? 'application/octet-stream' : 'application/json', 'content-length': data.length });
    res.end(data);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname);
    requests.push({ path, host: req.headers.host ?? '', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    if (path === '/-/npm/v1/keys') return send(req, res, 'keys', state.keys);
    const att = /^\/-\/npm\/v1\/attestations\/(.+)@([^@/]+)$/.exec(path);
    if (att) return send(req, res, 'attestations', packages.get(att[1] as string)?.get(att[2] as string)?.o.attestations);
    const tgz = /^\/(.+)\/-\/[^/]+-([^/]+)\.tgz$/.exec(path);
    if (tgz) {
      if (knobs.redirectTarballTo) {
        res.writeHead(302, { location: knobs.redirectTarballTo });
        res.end();
        return;
      }
      return send(req, res, 'tarball', packages.get(tgz[1] as string)?.get(tgz[2] as string)?.o.tarball);
    }
    return send(req, res, 'packument', packument(path.slice(1)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}/`;
  return {
    url: base,
    port,
    knobs,
    requests,
    get keys() {
      return state.keys;
    },
    set keys(k: object | undefined) {
      state.keys = k;
    },
    publish(o) {
      const versions = packages.get(o.name) ?? new Map<string, Published>();
      versions.set(o.version, { o, integrity: ssri.fromData(o.tarball, { algorithms: ['sha512'] }).toString() });
      packages.set(o.name, versions);
    },
    npmrcEnv(dir, extra = []) {
      const file = join(dir, '.npmrc');
      writeFileSync(file, [`registry=${base}`, ...extra, ''].join('\n'));
      // The user config is this file; HOME is the directory, so no real ~/.npmrc is ever read.
      return { npm_config_userconfig: file, npm_config_registry: base, HOME: dir };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
