/**
 * The signed path end to end through the built CLI: pack, keygen, sign, trust, install, then serve the
 * installed package to the SDK's Client over stdio and call its tool. Keyless against the local Sigstore
 * stack; serve refusing a package tampered with after install while serving the rest.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { cli, cliOk } from '../helpers/cli.ts';
import { EXAMPLES, startHost, tempDir } from '../helpers/host.ts';
import { TEST_ISSUER, startSigstoreStack, testIdentityToken } from '../helpers/sigstore-stack.ts';
import type { SigstoreStack } from '../helpers/sigstore-stack.ts';
import { writeToolPackage } from '../helpers/tool-package.ts';

const text = (r: CallToolResult): string => (r.content[0] as { text: string }).text;

describe('keyed signing end to end through the CLI', () => {
  it('packs, signs, trusts, installs, and serves the installed tool to an MCP client', async () => {
    const work = tempDir('keyed');
    const home = join(work, 'home');
    const ws = join(work, 'ws');
    mkdirSync(ws);
    writeFileSync(join(ws, 'notes.txt'), 'alpha\nneedle here\nomega\n');
    const packed = JSON.parse((await cliOk(['pack', join(EXAMPLES, 'file-search'), '--out', 'dist', '--json'], { cwd: work })).stdout) as { file: string; integrity: string };
    await cliOk(['keygen', '--out', 'acme'], { cwd: work });
    await cliOk(['sign', packed.file, '--key', 'acme.key'], { cwd: work });
    await cliOk(['trust', 'add-key', 'acme.pub', '--name', 'acme', '--scope', 'file-search', '--home', home], { cwd: work });

    // No terminal and no --yes: consent cannot be asked, nothing is installed.
    const noConsent = await cli(['install', packed.file, '--home', home, '--json'], { cwd: work });
    expect(noConsent.code).toBe(1);
    expect(JSON.parse(noConsent.stdout)).toMatchObject({ ok: false, error: { code: 'CONSENT_REQUIRED' } });

    const r = await cliOk(['install', packed.file, '--yes', '--grant', 'workspace=ws', '--home', home, '--json'], { cwd: work });
    const installed = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(installed).toMatchObject({ ok: true, name: 'file-search', version: '1.0.0', integrity: packed.integrity, publisher: 'acme', dir: 'packages/file-search@1.0.0' });
    const lock = JSON.parse(readFileSync(join(home, 'lock.json'), 'utf8')) as { packages: Record<string, { signer: string; grant: { fs: string[] } }> };
    expect(lock.packages['file-search']?.signer).toMatch(/^key:[0-9a-f]{64}$/);
    expect(lock.packages['file-search']?.grant.fs).toEqual([expect.stringMatching(/^read:\/.*\/ws$/)]);
    expect((await cliOk(['list', '--home', home], { cwd: work })).stdout).toContain('file-search@1.0.0');

    const h = await startHost({ home });
    try {
      expect((await h.client.listTools()).tools.map((t) => t.name)).toEqual(expect.arrayContaining(['file-search__grep']));
      const found = (await h.client.callTool({ name: 'file-search__grep', arguments: { pattern: 'needle' } })) as CallToolResult;
      expect(found.isError).toBeFalsy();
      expect(JSON.stringify(found.structuredContent ?? text(found))).toContain('needle here');
      expect(h.stderr()).not.toMatch(/REFUSED/);
    } finally {
      await h.close();
    }
  });
});

describe('keyless signing end to end through the CLI (local Sigstore stack)', () => {
  let stack: SigstoreStack;
  beforeAll(async () => {
    stack = await startSigstoreStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('signs with an OIDC token, installs against the stack trusted root, and serves', async () => {
    const work = tempDir('keyless');
    const home = join(work, 'home');
    writeToolPackage(join(work, 'pkg'), '@acme/echo', '1.0.0');
    writeFileSync(join(work, 'pkg', 'dist', 'index.js'), 'export default { echo: ({ text }) => text };\n');
    const packed = JSON.parse((await cliOk(['pack', 'pkg', '--out', 'dist', '--json'], { cwd: work })).stdout) as { file: string };
    await cliOk(['sign', packed.file, '--keyless', '--identity-token', testIdentityToken('user@example.com'), '--fulcio-url', stack.url, '--rekor-url', stack.url, '--tsa-url', stack.url], { cwd: work });
    const trust = ['trust', 'add-identity', '--certificate-identity', 'user@example.com', '--certificate-oidc-issuer', TEST_ISSUER, '--name', 'user', '--scope', '@acme/*', '--home', home];
    await cliOk(trust, { cwd: work });

    // The public-good root does not know the local stack's CA: refused.
    const wrongRoot = await cli(['install', packed.file, '--yes', '--home', home, '--json'], { cwd: work });
    expect(JSON.parse(wrongRoot.stdout)).toMatchObject({ ok: false, error: { code: 'SIGNATURE_INVALID' } });

    const r = await cliOk(['install', packed.file, '--yes', '--trusted-root', stack.trustedRootFile, '--home', home, '--json'], { cwd: work });
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, name: '@acme/echo', publisher: 'user', signer: `keyless:${JSON.stringify([TEST_ISSUER, 'user@example.com'])}` });

    const h = await startHost({ home });
    try {
      const echoed = (await h.client.callTool({ name: 'acme.echo__echo', arguments: { text: 'signed and sealed' } })) as CallToolResult;
      expect(text(echoed)).toContain('signed and sealed');
    } finally {
      await h.close();
    }
  });
});

describe('serve re-checks installed packages', () => {
  it('refuses a package whose files changed after install (INTEGRITY_MISMATCH) and serves the others', async () => {
    const work = tempDir('tamper');
    const home = join(work, 'home');
    await cliOk(['keygen', '--out', 'k'], { cwd: work });
    await cliOk(['trust', 'add-key', 'k.pub', '--name', 'k', '--home', home], { cwd: work });
    for (const name of ['text-tools', 'number-crunch']) {
      const packed = JSON.parse((await cliOk(['pack', join(EXAMPLES, name), '--out', 'dist', '--json'], { cwd: work })).stdout) as { file: string };
      await cliOk(['sign', packed.file, '--key', 'k.key'], { cwd: work });
      await cliOk(['install', packed.file, '--yes', '--home', home], { cwd: work });
    }
    appendFileSync(join(home, 'packages', 'text-tools@1.0.0', 'index.js'), '\nexport const backdoor = () => "pwned";\n');

    const h = await startHost({ home });
    try {
      const names = (await h.client.listTools()).tools.map((t) => t.name);
      expect(names.some((n) => n.startsWith('text-tools__'))).toBe(false);
      expect(names.some((n) => n.startsWith('number-crunch__'))).toBe(true);
      expect(h.stderr()).toMatch(/REFUSED text-tools: INTEGRITY_MISMATCH: .*index\.js.* was modified/);
      expect(readFileSync(join(home, 'audit.log'), 'utf8')).toMatch(/"package":"text-tools","event":"refused","code":"INTEGRITY_MISMATCH"/);
    } finally {
      await h.close();
    }
  });
});

describe('a package serving resources and prompts, signed and installed', () => {
  it('packs the files its manifest names, installs, and serves its resources, template, prompts and icons (the notes example)', async () => {
    const work = tempDir('content');
    const home = join(work, 'home');
    mkdirSync(join(work, 'kept'));
    await cliOk(['keygen', '--out', 'k'], { cwd: work });
    await cliOk(['trust', 'add-key', 'k.pub', '--name', 'k', '--home', home], { cwd: work });
    const packed = JSON.parse((await cliOk(['pack', join(EXAMPLES, 'notes'), '--out', 'dist', '--json'], { cwd: work })).stdout) as { file: string; files: string[] };
    expect(packed.files).toEqual(expect.arrayContaining(['GUIDE.md', 'icon.png']));
    await cliOk(['sign', packed.file, '--key', 'k.key'], { cwd: work });
    await cliOk(['install', packed.file, '--yes', '--grant', 'notes=kept', '--home', home], { cwd: work });

    const h = await startHost({ home });
    try {
      const guide = (await h.client.listResources()).resources.find((r) => r.uri === 'mcp-warden://notes/notes://guide');
      expect(guide).toMatchObject({ title: 'How to use notes', icons: [{ src: `data:image/png;base64,${readFileSync(join(EXAMPLES, 'notes', 'icon.png')).toString('base64')}` }] });
      expect((await h.client.readResource({ uri: 'mcp-warden://notes/notes://guide' })).contents).toEqual([{ uri: 'mcp-warden://notes/notes://guide', mimeType: 'text/markdown', text: readFileSync(join(EXAMPLES, 'notes', 'GUIDE.md'), 'utf8') }]);
      expect(((await h.client.callTool({ name: 'notes__add_note', arguments: { id: 'n1', text: 'kept text' } })) as CallToolResult).isError).toBeFalsy();
      expect((await h.client.readResource({ uri: 'mcp-warden://notes/notes://note/n1' })).contents[0]).toMatchObject({ text: 'kept text' });
      expect((await h.client.getPrompt({ name: 'notes__summarize_note', arguments: { id: 'n1' } })).messages[0]).toMatchObject({ content: { type: 'resource', resource: { text: 'kept text' } } });
      expect(h.stderr()).not.toMatch(/REFUSED/);
    } finally {
      await h.close();
    }
  });
});
