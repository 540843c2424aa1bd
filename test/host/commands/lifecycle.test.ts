/**
 * The package lifecycle after a first install: updates (capability diff and fresh consent, downgrade,
 * new signer), consent on a terminal, and list / grant / revoke / remove.
 */
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import * as grantCmd from '../../../host/commands/grant.ts';
import * as install from '../../../host/commands/install.ts';
import * as list from '../../../host/commands/list.ts';
import * as remove from '../../../host/commands/remove.ts';
import { publicKeyPem } from '../../../host/signing/keys.ts';
import { parsePublisher, saveTrustPolicy } from '../../../host/trust/policy.ts';
import { packEcho, signedWithKey, writeSigned } from '../../helpers/install-fixtures.ts';
import { runCommandModule } from '../../helpers/run-command.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const acme = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const acme2 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
let work: string;
let home: string;

type Json = { ok: boolean; error?: { code: string } } & Record<string, unknown>;

async function cmd(mod: { run(argv: string[], io: never): Promise<number> }, args: string[]): Promise<{ code: number; json: Json }> {
  const r = await runCommandModule(mod as never, [...args, '--home', home, '--json'], { cwd: work });
  return { code: r.code, json: JSON.parse(r.stdout) as Json };
}

async function signed(version: string, options: { net?: string[]; fs?: unknown[]; key?: typeof acme } = {}): Promise<string> {
  const t = await packEcho('@acme/echo', version, { net: options.net ?? [], fs: options.fs ?? [] });
  return writeSigned(work, `echo-${version}-${Math.random().toString(36).slice(2)}.tgz`, t, signedWithKey(t, (options.key ?? acme).privateKey));
}

const lock = (): { packages: Record<string, { version: string; signer: string; grant: { net: string[]; fs: string[]; slots: Record<string, string> } }> } =>
  JSON.parse(readFileSync(join(home, 'lock.json'), 'utf8')) as never;

beforeEach(async () => {
  work = tempDir('mcpw-life-');
  home = join(work, 'home');
  mkdirSync(join(work, 'ws'));
  await saveTrustPolicy(join(home, 'trust.json'), {
    publishers: [
      parsePublisher({ name: 'acme', kind: 'key', publicKeyPem: publicKeyPem(acme.publicKey) }),
      parsePublisher({ name: 'acme2', kind: 'key', publicKeyPem: publicKeyPem(acme2.publicKey) }),
    ],
  });
  expect((await cmd(install, [await signed('1.0.0', { fs: [{ slot: 'workspace', access: 'read' }] }), '--yes', '--grant', 'workspace=ws'])).json.ok).toBe(true);
});

describe('updates', () => {
  it('shows new capabilities as a diff and installs them with fresh consent (--yes)', async () => {
    const r = await cmd(install, [await signed('1.1.0', { net: ['api.example.com'], fs: [{ slot: 'workspace', access: 'read' }] }), '--yes']);
    expect(r.json).toMatchObject({ ok: true, version: '1.1.0', previousVersion: '1.0.0', diff: { added: { net: ['api.example.com'], fs: [] } } });
    // The slot binding the user chose for 1.0.0 carries over.
    expect(lock().packages['@acme/echo']?.grant.slots.workspace).toMatch(/\/ws$/);
    expect(existsSync(join(home, 'packages', '@acme', 'echo@1.0.0'))).toBe(false);
  });

  it('needs no consent for an update that asks for nothing new', async () => {
    expect((await cmd(install, [await signed('1.2.0', { fs: [{ slot: 'workspace', access: 'read' }] })])).json).toMatchObject({ ok: true, version: '1.2.0' });
  });

  it('treats read → write on a slot as an escalation', async () => {
    const r = await cmd(install, [await signed('1.2.0', { fs: [{ slot: 'workspace', access: 'write' }] })]);
    expect(r.json.error?.code).toBe('POLICY_ESCALATION');
  });

  it('installs a lower version with --allow-downgrade', async () => {
    const old = await signed('0.9.0', { fs: [{ slot: 'workspace', access: 'read' }] });
    expect((await cmd(install, [old, '--yes'])).json.error?.code).toBe('VERSION_DOWNGRADE');
    expect((await cmd(install, [old, '--yes', '--allow-downgrade'])).json).toMatchObject({ ok: true, version: '0.9.0' });
  });

  it('accepts another trusted signer with --trust-new-signer and records it', async () => {
    const next = await signed('1.1.0', { fs: [{ slot: 'workspace', access: 'read' }], key: acme2 });
    expect((await cmd(install, [next])).json.error?.code).toBe('SIGNER_CHANGED');
    const before = lock().packages['@acme/echo']?.signer;
    expect((await cmd(install, [next, '--trust-new-signer'])).json).toMatchObject({ ok: true, publisher: 'acme2' });
    expect(lock().packages['@acme/echo']?.signer).not.toBe(before);
  });

  it('repairs a damaged install when the same version is installed again', async () => {
    const path = await signed('1.0.0', { fs: [{ slot: 'workspace', access: 'read' }] });
    // packEcho is deterministic: same bytes, same integrity as the installed 1.0.0.
    appendFileSync(join(home, 'packages', '@acme', 'echo@1.0.0', 'index.js'), '// tampered\n');
    expect((await cmd(grantCmd, ['@acme/echo', 'workspace=ws'])).json.error?.code).toBe('INTEGRITY_MISMATCH');
    expect((await cmd(install, [path])).json).toMatchObject({ ok: true, version: '1.0.0' });
    expect((await cmd(grantCmd, ['@acme/echo', 'workspace=ws'])).json.ok).toBe(true);
  });
});

describe('consent on a terminal', () => {
  async function onTerminal(args: string[], answer: string): Promise<{ code: number; err: string }> {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const stderr = Object.assign(new PassThrough(), { isTTY: true });
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    stderr.once('data', () => stdin.end(answer));
    const code = await install.run([...args, '--home', home], { stdin, stdout: new PassThrough(), stderr, env: {}, cwd: work });
    return { code, err };
  }

  it('installs on "y" after showing the capability diff, and refuses on anything else', async () => {
    const next = await signed('1.1.0', { net: ['api.example.com'], fs: [{ slot: 'workspace', access: 'read' }] });
    const no = await onTerminal([next], 'n\n');
    expect(no.code).toBe(1);
    expect(no.err).toContain('+ network  api.example.com');
    expect(lock().packages['@acme/echo']?.version).toBe('1.0.0');
    const yes = await onTerminal([next], 'y\n');
    expect(yes.code).toBe(0);
    expect(lock().packages['@acme/echo']?.version).toBe('1.1.0');
  });
});

describe('list, grant, revoke, remove', () => {
  it('lists, rebinds and unbinds slots, and removes the package', async () => {
    expect((await cmd(list, [])).json).toMatchObject({ ok: true, packages: [{ name: '@acme/echo', version: '1.0.0' }] });
    mkdirSync(join(work, 'other'));
    const g = await cmd(grantCmd, ['@acme/echo', 'workspace=other']);
    expect(g.json).toMatchObject({ ok: true, grant: { fs: [expect.stringMatching(/^read:.*\/other$/)] } });
    expect((await cmd(grantCmd, ['@acme/echo', 'nope=/tmp'])).code).toBe(2);
    expect((await cmd(grantCmd, ['@acme/echo', 'workspace=/does/not/exist'])).json.error?.code).toBe('GRANT_INVALID');

    const r = await cmd(grantCmd.revoke, ['@acme/echo', 'workspace']);
    expect(r.json).toMatchObject({ ok: true, grant: { fs: [], net: [] } });
    expect(lock().packages['@acme/echo']?.grant.slots).toEqual({});

    expect((await cmd(remove, ['@acme/echo'])).json).toMatchObject({ ok: true, removed: '@acme/echo' });
    expect(lock().packages).toEqual({});
    expect(existsSync(join(home, 'packages', '@acme'))).toBe(false);
    expect((await cmd(remove, ['@acme/echo'])).json.error?.code).toBe('NOT_INSTALLED');
    expect((await cmd(grantCmd, ['@acme/echo', 'workspace=ws'])).json.error?.code).toBe('NOT_INSTALLED');
  });

  it('answers --help and exits 2 on usage errors', async () => {
    for (const m of [list, remove, grantCmd, grantCmd.revoke]) {
      expect((await runCommandModule(m, ['--help'])).stdout).toMatch(/^Usage: mcp-warden /);
    }
    expect((await cmd(remove, [])).code).toBe(2);
    expect((await cmd(grantCmd, ['@acme/echo'])).code).toBe(2);
    expect((await cmd(list, ['extra'])).code).toBe(2);
  });
});
