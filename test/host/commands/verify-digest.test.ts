/**
 * `mcp-warden verify sha256:<hex> | sha512:<hex> --bundle B` (issue 8, item 31): like cosign, verify a
 * signature for an artifact known only by its digest. The signed statement must name that digest; the
 * signature and signer are verified exactly as for a file.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as verify from '../../../host/commands/verify.ts';
import { packToBuffer } from '../../../host/pack/pack.ts';
import { publicKeyPem } from '../../../host/signing/keys.ts';
import { signKeyed, signStatementKeyed } from '../../../host/signing/sign.ts';
import { IN_TOTO_STATEMENT_V1, statementPayload } from '../../../host/signing/statement.ts';
import { runCommandModule } from '../../helpers/run-command.ts';
import { tempDir, writeToolPackage } from '../../helpers/tool-package.ts';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let work: string;
let tarball: Buffer;
const hex = (alg: string, data: Buffer): string => createHash(alg).update(data).digest('hex');

beforeAll(async () => {
  work = tempDir('mcpw-vdigest-');
  tarball = (await packToBuffer(writeToolPackage(tempDir(), '@acme/echo', '1.0.0'))).data;
  writeFileSync(join(work, 'acme.pub'), publicKeyPem(key.publicKey));
  writeFileSync(join(work, 'other.pub'), publicKeyPem(other.publicKey));
  writeFileSync(join(work, 'pkg.sigstore.json'), JSON.stringify(signKeyed(tarball, key.privateKey)));
  // A statement over a plain file with a sha256 subject (as `cosign attest-blob` writes).
  const notes = Buffer.from('release notes\n');
  const statement = { _type: IN_TOTO_STATEMENT_V1, subject: [{ name: 'notes.txt', digest: { sha256: hex('sha256', notes) } }], predicateType: 'https://example.com/notes/v1', predicate: {} };
  writeFileSync(join(work, 'notes.sigstore.json'), JSON.stringify(signStatementKeyed(statementPayload(statement), key.privateKey)));
  writeFileSync(join(work, 'notes.sha256'), hex('sha256', notes));
});

type Out = { ok: boolean; error?: { code: string }; signer?: { kind: string }; package?: { name: string; version: string } };
async function run(args: string[]): Promise<{ code: number; json: Out }> {
  const r = await runCommandModule(verify, [...args, '--json'], { cwd: work });
  return { code: r.code, json: JSON.parse(r.stdout) as Out };
}

describe('verify by digest', () => {
  it('verifies a package bundle given the tarball\'s sha512:<hex>, and names the signed package', async () => {
    const r = await run([`sha512:${hex('sha512', tarball)}`, '--bundle', 'pkg.sigstore.json', '--key', 'acme.pub']);
    expect(r.json).toMatchObject({ ok: true, signer: { kind: 'key' }, package: { name: '@acme/echo', version: '1.0.0' } });
    expect(r.code).toBe(0);
  });

  it('verifies a statement given sha256:<hex> (upper-case hex too)', async () => {
    const digest = (await import('node:fs')).readFileSync(join(work, 'notes.sha256'), 'utf8');
    const r = await run([`sha256:${digest.toUpperCase()}`, '--bundle', 'notes.sigstore.json', '--key', 'acme.pub']);
    expect(r.json).toMatchObject({ ok: true, signer: { kind: 'key' } });
    expect(r.code).toBe(0);
  });

  it('refuses a digest the bundle does not sign (INTEGRITY_MISMATCH)', async () => {
    const r = await run([`sha512:${'ab'.repeat(64)}`, '--bundle', 'pkg.sigstore.json', '--key', 'acme.pub']);
    expect(r.json.error?.code).toBe('INTEGRITY_MISMATCH');
    expect(r.code).toBe(1);
  });

  it('still verifies the signer (UNTRUSTED_SIGNER for another key)', async () => {
    const r = await run([`sha512:${hex('sha512', tarball)}`, '--bundle', 'pkg.sigstore.json', '--key', 'other.pub']);
    expect(r.json.error?.code).toBe('UNTRUSTED_SIGNER');
  });

  it.each([
    ['a malformed digest', ['sha256:xyz', '--bundle', 'pkg.sigstore.json', '--key', 'acme.pub']],
    ['a digest of the wrong length', [`sha512:${'ab'.repeat(32)}`, '--bundle', 'pkg.sigstore.json', '--key', 'acme.pub']],
    ['a digest without --bundle', [`sha512:${'ab'.repeat(64)}`, '--key', 'acme.pub']],
  ])('is a usage error (exit 2): %s', async (_what, args) => {
    const r = await run(args);
    expect(r.json.error?.code).toBe('USAGE');
    expect(r.code).toBe(2);
  });
});
