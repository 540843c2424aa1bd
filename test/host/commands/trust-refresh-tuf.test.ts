/**
 * `trust refresh-root` online, through TUF, against a TUF repository on 127.0.0.1: real signed metadata
 * (root, timestamp, snapshot, targets, made with @tufjs/models) and the trusted_root.json target it
 * vouches for, fetched and verified by @sigstore/tuf as in production. A target that does not match
 * its signed hash is refused, and the home's trusted root stays what it was.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Key, Metadata, MetaFile, Root, Signature, Snapshot, TargetFile, Targets, Timestamp } from '@tufjs/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as trust from '../../../host/commands/trust.ts';
import { runCommandModule } from '../../helpers/run-command.ts';
import { startSigstoreStack } from '../../helpers/sigstore-stack.ts';
import type { SigstoreStack } from '../../helpers/sigstore-stack.ts';
import { tempDir } from '../../helpers/tool-package.ts';

interface Repo {
  readonly url: string;
  readonly rootFile: string;
  /** Files served, by path; a test may replace the target's bytes. */
  readonly files: Map<string, Buffer>;
  readonly server: Server;
}

/** A one-key TUF repository (every role signed by the same ed25519 key) serving `target` as trusted_root.json. */
async function tufRepository(target: Buffer): Promise<Repo> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(-32);
  const keyVal = { public: raw.toString('hex') };
  const keyID = createHash('sha256').update(JSON.stringify({ keytype: 'ed25519', scheme: 'ed25519', keyval: keyVal })).digest('hex');
  const key = new Key({ keyID, keyType: 'ed25519', scheme: 'ed25519', keyVal });
  const signer = (data: Buffer): Signature => new Signature({ keyID, sig: sign(null, data, privateKey).toString('hex') });
  const expires = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/u, 'Z');
  const common = { version: 1, specVersion: '1.0.31', expires };
  const serialize = (md: Metadata<Root | Targets | Snapshot | Timestamp>): Buffer => {
    md.sign(signer);
    return Buffer.from(JSON.stringify(md.toJSON()));
  };

  const root = new Root({ ...common, consistentSnapshot: false });
  for (const role of ['root', 'timestamp', 'snapshot', 'targets']) root.addKey(key, role);
  const targets = new Targets({ ...common });
  targets.addTarget(new TargetFile({ path: 'trusted_root.json', length: target.length, hashes: { sha256: createHash('sha256').update(target).digest('hex') } }));
  const targetsBytes = serialize(new Metadata(targets));
  const snapshotBytes = serialize(new Metadata(new Snapshot({ ...common, meta: { 'targets.json': new MetaFile({ version: 1 }) } })));
  const timestampBytes = serialize(new Metadata(new Timestamp({ ...common, snapshotMeta: new MetaFile({ version: 1 }) })));
  const rootBytes = serialize(new Metadata(root));

  const files = new Map<string, Buffer>([
    ['/timestamp.json', timestampBytes],
    ['/snapshot.json', snapshotBytes],
    ['/targets.json', targetsBytes],
    ['/targets/trusted_root.json', target],
  ]);
  const server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const rootFile = join(tempDir('mcpw-tuf-'), 'root.json');
  writeFileSync(rootFile, rootBytes);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, rootFile, files, server };
}

let stack: SigstoreStack;
let repo: Repo;
let target: Buffer;

beforeAll(async () => {
  stack = await startSigstoreStack();
  target = Buffer.from(JSON.stringify(stack.trustedRoot));
  repo = await tufRepository(target);
});

afterAll(async () => {
  await new Promise<void>((resolve) => repo?.server.close(() => resolve()));
  await stack?.close();
});

async function refresh(home: string): Promise<{ code: number; out: Record<string, unknown> }> {
  const r = await runCommandModule(trust, ['refresh-root', '--mirror', repo.url, '--tuf-root', repo.rootFile, '--home', home, '--json']);
  return { code: r.code, out: JSON.parse(r.stdout) as Record<string, unknown> };
}

describe('trust refresh-root through TUF (loopback TUF repository)', () => {
  it('writes the trusted_root.json target the signed TUF metadata vouch for, and caches the metadata in the home', async () => {
    const home = join(tempDir(), 'h');
    expect(await refresh(home)).toMatchObject({ code: 0, out: { ok: true, source: 'tuf', certificateAuthorities: 1, tlogs: 1 } });
    expect(JSON.parse(readFileSync(join(home, 'trusted_root.json'), 'utf8'))).toEqual(stack.trustedRoot);
  });

  it('refuses a target that is not the one the metadata sign (FETCH_FAILED), keeping the home\'s root', async () => {
    const home = join(tempDir(), 'h');
    expect((await refresh(home)).code).toBe(0);
    const before = readFileSync(join(home, 'trusted_root.json'), 'utf8');
    const forged = Buffer.from(target);
    forged[forged.length - 2] = 0x20; // same length, other bytes
    repo.files.set('/targets/trusted_root.json', forged);
    try {
      const other = join(tempDir(), 'h2');
      const refused = await refresh(other);
      expect(refused).toMatchObject({ code: 1, out: { error: { code: 'FETCH_FAILED' } } });
      expect(JSON.stringify(refused.out)).toMatch(/hash|length/i);
    } finally {
      repo.files.set('/targets/trusted_root.json', target);
    }
    expect(readFileSync(join(home, 'trusted_root.json'), 'utf8')).toBe(before);
  });
});
