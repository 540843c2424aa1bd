/**
 * A real, local Sigstore stack for tests: the Fulcio, Rekor (v1 and v2) and TSA handlers of
 * @sigstore/mock behind one HTTP server on 127.0.0.1, and a trusted root built from their keys. Keyless
 * signing talks to it over real HTTP; verification reads the trusted root from a file, as in production.
 *
 * Workarounds for bugs of @sigstore/mock 0.13 live here, never in the product:
 * - the TSA writes fractional seconds without trailing zeros, which @sigstore/core rejects: its clock is
 *   set to the current whole second before each request;
 * - mock Rekor v1 stores a `dsse` entry as submitted; real Rekor stores hashes and signatures with
 *   their verifiers, which is what verification expects: the request is reshaped before it is logged;
 * - mock Rekor v2 logs the request instead of an entry body (no kind/apiVersion) and reports the
 *   entry's random index in its one-leaf inclusion proof: the body is built as real Rekor v2 does and
 *   the proof index is 0.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, initializeTSA, rekorHandler, tsaHandler } from '@sigstore/mock';
import { TransparencyLogEntry } from '@sigstore/protobuf-specs';

export interface SigstoreStack {
  /** Base URL of every service (Fulcio, Rekor, TSA): http://127.0.0.1:PORT */
  readonly url: string;
  /** The trusted root JSON (as a file would hold it). */
  readonly trustedRoot: Record<string, unknown>;
  /** A file holding `trustedRoot`. */
  readonly trustedRootFile: string;
  /** Requests served, by path (to assert that a service was used). */
  readonly hits: Map<string, number>;
  close(): Promise<void>;
}

export const TEST_ISSUER = 'https://token.actions.example.com';

/** An unsigned OIDC token: the mock Fulcio reads `sub` (the certificate SAN) and `iss` without checking a signature. */
export function testIdentityToken(sub: string, iss: string = TEST_ISSUER): string {
  const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss, sub, aud: 'sigstore', iat: now, exp: now + 600 })}.`;
}

function keyPair(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

const b64 = (b: ArrayBufferView): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
const sha256 = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest();

/** Real Rekor v1's stored form of a dsse entry (what `verifyDSSETLogBody` reads). */
function reshapeDsseV1(proposed: { kind?: string; spec?: { proposedContent?: { envelope: string; verifiers: string[] } } }): object {
  const content = proposed.kind === 'dsse' ? proposed.spec?.proposedContent : undefined;
  if (!content) return proposed;
  const env = JSON.parse(content.envelope) as { payload: string; signatures: { sig: string }[] };
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(content.envelope).toString('hex') },
      payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(env.payload, 'base64')).toString('hex') },
      signatures: env.signatures.map((s) => ({ signature: s.sig, verifier: content.verifiers[0] })),
    },
  };
}

/** Real Rekor v2's entry body for a dsse or hashedrekord request (what `Entry.fromJSON` reads). */
function rekorV2Body(request: Record<string, { envelope?: { payload: string; signatures: { sig: string }[] }; verifiers?: object[]; digest?: string; signature?: { content: string; verifier: object } }>): { kind: string; body: object } {
  const dsse = request.dsseRequestV002;
  if (dsse?.envelope && dsse.verifiers) {
    const env = dsse.envelope;
    return {
      kind: 'dsse',
      body: {
        apiVersion: '0.0.2',
        kind: 'dsse',
        spec: {
          dsseV002: {
            payloadHash: { algorithm: 'SHA2_256', digest: b64(sha256(Buffer.from(env.payload, 'base64'))) },
            signatures: env.signatures.map((s) => ({ content: s.sig, verifier: dsse.verifiers?.[0] })),
          },
        },
      },
    };
  }
  const hr = request.hashedRekordRequestV002;
  if (hr?.digest && hr.signature) {
    return {
      kind: 'hashedrekord',
      body: {
        apiVersion: '0.0.2',
        kind: 'hashedrekord',
        spec: { hashedRekordV002: { data: { algorithm: 'SHA2_256', digest: hr.digest }, signature: hr.signature } },
      },
    };
  }
  throw new Error('unsupported Rekor v2 request');
}

/** Starts the stack; `validForStart` defaults to a minute ago (Rekor times are whole seconds). */
export async function startSigstoreStack(): Promise<SigstoreStack> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const ctKeys = keyPair();
  const caKeys = keyPair();
  const tlogKeys = keyPair();
  const tsaKeys = keyPair();
  const ctLog = await initializeCTLog(ctKeys);
  const ca = await initializeCA(caKeys, ctLog);
  // The log's checkpoint names the host of `url`: the server must be listening first.
  const tlog = await initializeTLog(url, tlogKeys);
  const tsaClock = new Date(Math.floor(Date.now() / 1000) * 1000);
  const tsa = await initializeTSA(tsaKeys, tsaClock);

  const fulcio = fulcioHandler(ca);
  const rekor = rekorHandler(tlog);
  const timestamp = tsaHandler(tsa);
  const hits = new Map<string, number>();

  type Reply = { statusCode: number; response: string | ArrayBufferView; contentType?: string };
  const routes: Record<string, (body: string) => Promise<Reply>> = {
    [fulcio.path]: (body) => fulcio.fn(body),
    [rekor.path]: (body) => rekor.fn(JSON.stringify(reshapeDsseV1(JSON.parse(body) as never))),
    '/api/v2/log/entries': async (body): Promise<Reply> => {
      const { kind, body: entryBody } = rekorV2Body(JSON.parse(body) as never);
      const entry = await tlog.logV2(entryBody as never);
      entry.kindVersion = { kind, version: '0.0.2' };
      if (entry.inclusionProof) entry.inclusionProof.logIndex = '0';
      return { statusCode: 201, response: JSON.stringify(TransparencyLogEntry.toJSON(entry)), contentType: 'application/json' };
    },
    [timestamp.path]: (body) => {
      tsaClock.setTime(Math.floor(Date.now() / 1000) * 1000);
      return timestamp.fn(body);
    },
  };

  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      hits.set(path, (hits.get(path) ?? 0) + 1);
      const route = req.method === 'POST' ? routes[path] : undefined;
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      route(Buffer.concat(chunks).toString('utf8')).then(
        (r) => {
          res.writeHead(r.statusCode, { 'content-type': r.contentType ?? 'text/plain' });
          res.end(typeof r.response === 'string' ? r.response : Buffer.from(r.response.buffer, r.response.byteOffset, r.response.byteLength));
        },
        (e: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(e));
        },
      );
    });
  });

  const start = new Date(Date.now() - 60_000).toISOString();
  const der = (k: KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(der(tlogKeys.publicKey)), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: b64(sha256(der(tlogKeys.publicKey))) },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: url,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: { start },
      },
    ],
    ctlogs: [
      {
        baseUrl: url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: b64(ctLog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: b64(ctLog.logID) },
      },
    ],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: url,
        // Intermediate first, then root.
        certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] },
        validFor: { start },
      },
    ],
  };
  const trustedRootFile = join(mkdtempSync(join(tmpdir(), 'mcpw-sigstore-')), 'trusted_root.json');
  writeFileSync(trustedRootFile, JSON.stringify(trustedRoot, null, 2));

  return {
    url,
    trustedRoot,
    trustedRootFile,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
