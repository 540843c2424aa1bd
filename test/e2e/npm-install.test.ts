/**
 * Installing from an npm registry end to end through the built CLI: a real loopback registry
 * (test/helpers/npm-registry.ts) serving packuments, tarballs, keys and attestations signed by the local
 * Sigstore stack (test/helpers/npm-attestations.ts), npm configured by a temporary .npmrc. Install by
 * name and by range, serve with the registry and the Sigstore stack gone, call the tool; and each
 * refusal with its code, the home unchanged.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { cli, cliOk } from '../helpers/cli.ts';
import { startHost, tempDir } from '../helpers/host.ts';
import { packEcho, snapshotHome } from '../helpers/install-fixtures.ts';
import { makeNpmAttestations } from '../helpers/npm-attestations.ts';
import { startNpmRegistry } from '../helpers/npm-registry.ts';
import type { Knobs, NpmRegistry } from '../helpers/npm-registry.ts';
import { startSigstoreStack } from '../helpers/sigstore-stack.ts';
import type { SigstoreStack } from '../helpers/sigstore-stack.ts';

const REPO = 'github.com/acme/weather-tool';
const WORKFLOW = '.github/workflows/release.yml';

let stack: SigstoreStack;
let registry: NpmRegistry;
let work: string;
let env: Record<string, string>;

interface Published {
  readonly name: string;
  readonly version: string;
  readonly repository?: string;
  readonly workflow?: string;
  readonly ref?: string;
  readonly issuer?: string;
  /** Attest another name, version or digest than the tarball's. */
  readonly subject?: { name?: string; sha512?: string };
  /** Publish without attestations. */
  readonly unattested?: boolean;
  readonly dependencies?: Record<string, string>;
}

async function publish(p: Published): Promise<void> {
  const tarball = await packEcho(p.name, p.version);
  if (p.unattested) {
    registry.publish({ name: p.name, version: p.version, tarball, ...(p.dependencies ? { dependencies: p.dependencies } : {}) });
    return;
  }
  const made = await makeNpmAttestations(stack, {
    name: p.name,
    version: p.version,
    tarball,
    ...(p.repository ? { repository: p.repository } : {}),
    ...(p.workflow ? { workflow: p.workflow } : {}),
    ...(p.ref ? { ref: p.ref } : {}),
    ...(p.issuer ? { issuer: p.issuer } : {}),
    ...(p.subject ? { subject: p.subject } : {}),
  });
  registry.keys = made.keys;
  registry.publish({ name: p.name, version: p.version, tarball, attestations: made.attestations, ...(p.dependencies ? { dependencies: p.dependencies } : {}) });
}

/** A fresh home trusting the acme repository's release workflow for @acme/*, with the stack's trusted root. */
async function freshHome(extraTrust: readonly string[] = []): Promise<string> {
  const home = join(tempDir('npm-home'), 'home');
  await cliOk(['trust', 'refresh-root', '--from', stack.trustedRootFile, '--home', home], { cwd: work, env });
  await cliOk(['trust', 'add-provenance', '--repo', REPO, '--workflow', WORKFLOW, '--name', 'acme', '--scope', '@acme/*', ...extraTrust, '--home', home], { cwd: work, env });
  return home;
}

async function install(home: string, spec: string, extra: readonly string[] = []): Promise<{ code: number; json: Record<string, unknown> }> {
  const r = await cli(['install', spec, '--yes', '--home', home, '--json', ...extra], { cwd: work, env });
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`install ${spec} printed no JSON (exit ${r.code}): ${r.stdout} ${r.stderr}`);
  }
  return { code: r.code, json };
}

/** Runs an install that must be refused with `code`, and checks that the home did not change. */
async function refused(home: string, spec: string, code: string, extra: readonly string[] = []): Promise<string> {
  const before = snapshotHome(home);
  const r = await install(home, spec, extra);
  expect(r.json).toMatchObject({ ok: false, error: { code } });
  expect(r.code).toBe(1);
  expect(snapshotHome(home)).toEqual(before);
  return String((r.json.error as { message?: string }).message);
}

beforeAll(async () => {
  stack = await startSigstoreStack();
  registry = await startNpmRegistry();
  work = tempDir('npm-work');
  env = registry.npmrcEnv(work);
  await publish({ name: '@acme/echo', version: '1.0.0' });
  await publish({ name: '@acme/echo', version: '1.1.0' });
});
afterAll(async () => {
  await registry?.close();
  await stack?.close();
});
beforeEach(() => {
  for (const k of Object.keys(registry.knobs)) delete registry.knobs[k as keyof Knobs];
});

describe('install NAME[@RANGE] from an npm registry, verified by provenance', () => {
  it('installs by range then by name (an update from a new tag of the same workflow), records the provenance, and shows it', async () => {
    const home = await freshHome();
    const first = await install(home, '@acme/echo@~1.0.0');
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ ok: true, name: '@acme/echo', version: '1.0.0', publisher: 'acme', provenance: { repository: REPO, workflow: WORKFLOW, ref: 'refs/tags/v1.0.0' } });
    const second = await install(home, 'npm:@acme/echo');
    expect(second.json).toMatchObject({ ok: true, version: '1.1.0', previousVersion: '1.0.0', provenance: { ref: 'refs/tags/v1.1.0' } });
    const lock = JSON.parse(readFileSync(join(home, 'lock.json'), 'utf8')) as { packages: Record<string, { signer: string; provenance: { repository: string; commit: string; transparencyLog: { logIndex: string } } }> };
    const entry = lock.packages['@acme/echo'];
    expect(entry?.signer).toBe(`provenance:${JSON.stringify(['https://token.actions.githubusercontent.com', REPO, WORKFLOW, 'refs/tags/v1.1.0'])}`);
    expect(entry?.provenance).toMatchObject({ repository: REPO, commit: expect.stringMatching(/^[0-9a-f]{40}$/), transparencyLog: { logIndex: expect.any(String) } });
    // The text form: the consent summary carries the provenance lines.
    await publish({ name: '@acme/shown', version: '1.0.0' });
    const text = await cliOk(['install', '@acme/shown', '--yes', '--home', home], { cwd: work, env });
    expect(text.stdout).toMatch(/repository: +github\.com\/acme\/weather-tool/);
    expect(text.stdout).toMatch(/commit: +[0-9a-f]{40} \(refs\/tags\/v1\.0\.0\)/);
    expect(text.stdout).toMatch(/workflow: +\.github\/workflows\/release\.yml/);
    expect(text.stdout).toMatch(/builder: +\S+/);
    expect(text.stdout).toMatch(/tlog entry: +index \d+/);
    // `list` shows it too, for every package installed from npm.
    const listed = await cliOk(['list', '--home', home], { cwd: work, env });
    expect(listed.stdout).toMatch(/@acme\/echo@1\.1\.0\n[\s\S]*?repository: +github\.com\/acme\/weather-tool[\s\S]*?commit: +[0-9a-f]{40} \(refs\/tags\/v1\.1\.0\)/);
    expect(listed.stdout).toMatch(/@acme\/shown@1\.0\.0\n[\s\S]*?workflow: +\.github\/workflows\/release\.yml/);
  });

  it('serves the installed package with the registry and Sigstore unreachable, and calls its tool', async () => {
    // Its own registry and stack, closed before serving.
    const ownStack = await startSigstoreStack();
    const ownRegistry = await startNpmRegistry();
    const ownWork = tempDir('npm-offline');
    const ownEnv = ownRegistry.npmrcEnv(ownWork);
    const tarball = await packEcho('@acme/offline', '2.0.0');
    const made = await makeNpmAttestations(ownStack, { name: '@acme/offline', version: '2.0.0', tarball });
    ownRegistry.keys = made.keys;
    ownRegistry.publish({ name: '@acme/offline', version: '2.0.0', tarball, attestations: made.attestations });
    const home = join(tempDir('npm-offline-home'), 'home');
    await cliOk(['trust', 'refresh-root', '--from', ownStack.trustedRootFile, '--home', home], { cwd: ownWork, env: ownEnv });
    await cliOk(['trust', 'add-provenance', '--repo', REPO, '--name', 'acme', '--scope', '@acme/*', '--home', home], { cwd: ownWork, env: ownEnv });
    await cliOk(['install', '@acme/offline@^2', '--yes', '--home', home, '--json'], { cwd: ownWork, env: ownEnv });
    await ownRegistry.close();
    await ownStack.close();
    const h = await startHost({ home, env: ownEnv });
    try {
      const r = (await h.client.callTool({ name: 'acme.offline__echo', arguments: { text: 'hi' } })) as CallToolResult;
      expect(r.isError).toBeFalsy();
      expect((r.content[0] as { text: string }).text).toBe('@acme/offline@2.0.0: hi');
      expect(h.stderr()).not.toMatch(/REFUSED/);
    } finally {
      await h.close();
    }
    // serve re-verifies the kept attestations every time: replaced by another package's, the package is refused.
    const store = join(home, 'store');
    const kept = readdirSync(store).find((n) => n.endsWith('.attestations.json')) as string;
    const other = await packEcho('@acme/offline', '2.0.0', { code: 'export default { echo: () => "other" };\n' });
    writeFileSync(join(store, kept), JSON.stringify((await makeNpmAttestations(stack, { name: '@acme/offline', version: '2.0.0', tarball: other })).attestations));
    const refusedHost = await startHost({ home, env: ownEnv });
    try {
      expect((await refusedHost.client.listTools()).tools.map((t) => t.name)).not.toContain('acme.offline__echo');
      expect(refusedHost.stderr()).toMatch(/REFUSED @acme\/offline: PROVENANCE_SUBJECT_MISMATCH/);
    } finally {
      await refusedHost.close();
    }
  });
});

describe('refusals, each with its code and the home unchanged', () => {
  it('a tarball that does not match dist.integrity', async () => {
    const home = await freshHome();
    registry.knobs.wrongIntegrity = true;
    await refused(home, '@acme/echo', 'INTEGRITY_MISMATCH');
  });

  it('attestations for another package, another version, another digest', async () => {
    const home = await freshHome();
    await publish({ name: '@acme/other-name', version: '1.0.0', subject: { name: 'pkg:npm/%40acme/echo@1.0.0' } });
    await refused(home, '@acme/other-name', 'PROVENANCE_SUBJECT_MISMATCH');
    await publish({ name: '@acme/other-version', version: '1.0.1', subject: { name: 'pkg:npm/%40acme/other-version@1.0.0' } });
    await refused(home, '@acme/other-version', 'PROVENANCE_SUBJECT_MISMATCH');
    await publish({ name: '@acme/other-digest', version: '1.0.0', subject: { sha512: 'ab'.repeat(64) } });
    await refused(home, '@acme/other-digest', 'PROVENANCE_SUBJECT_MISMATCH');
  });

  it('provenance from an untrusted repository, workflow or ref, or another issuer', async () => {
    const home = await freshHome(['--ref', 'refs/tags/*']);
    await publish({ name: '@acme/evil-repo', version: '1.0.0', repository: 'github.com/evil/weather-tool' });
    await refused(home, '@acme/evil-repo', 'PROVENANCE_UNTRUSTED');
    await publish({ name: '@acme/evil-workflow', version: '1.0.0', workflow: '.github/workflows/other.yml' });
    await refused(home, '@acme/evil-workflow', 'PROVENANCE_WORKFLOW_MISMATCH');
    await publish({ name: '@acme/evil-ref', version: '1.0.0', ref: 'refs/heads/main' });
    await refused(home, '@acme/evil-ref', 'PROVENANCE_REF_MISMATCH');
    await publish({ name: '@acme/evil-issuer', version: '1.0.0', issuer: 'https://issuer.evil.example' });
    await refused(home, '@acme/evil-issuer', 'ISSUER_MISMATCH');
  });

  it('an update whose provenance was dropped, or that comes from another trusted repository (unless --trust-new-signer)', async () => {
    const home = await freshHome();
    await cliOk(['trust', 'add-provenance', '--repo', 'github.com/acme/fork', '--workflow', WORKFLOW, '--name', 'fork', '--scope', '@acme/*', '--home', home], { cwd: work, env });
    await publish({ name: '@acme/dropped', version: '1.0.0' });
    expect((await install(home, '@acme/dropped')).code).toBe(0);
    await publish({ name: '@acme/dropped', version: '1.1.0', unattested: true });
    await refused(home, '@acme/dropped', 'PROVENANCE_MISSING');
    await refused(home, '@acme/dropped', 'PROVENANCE_MISSING', ['--trust-new-signer']);

    await publish({ name: '@acme/moved', version: '1.0.0' });
    expect((await install(home, '@acme/moved')).code).toBe(0);
    await publish({ name: '@acme/moved', version: '1.1.0', repository: 'github.com/acme/fork' });
    await refused(home, '@acme/moved', 'SIGNER_CHANGED');
    expect((await install(home, '@acme/moved', ['--trust-new-signer'])).json).toMatchObject({ ok: true, version: '1.1.0', publisher: 'fork' });
    // A lower version is refused as for tarballs.
    await refused(home, '@acme/moved@1.0.0', 'VERSION_DOWNGRADE');
  });

  it('a registry answering garbage or a 2 GiB body', async () => {
    const home = await freshHome();
    registry.knobs.garbage = 'packument';
    await refused(home, '@acme/echo', 'REGISTRY_RESPONSE_INVALID');
    registry.knobs.garbage = 'attestations';
    await refused(home, '@acme/echo', 'REGISTRY_RESPONSE_INVALID');
    delete registry.knobs.garbage;
    registry.knobs.endless = 'tarball';
    await refused(home, '@acme/echo', 'REGISTRY_RESPONSE_TOO_LARGE');
    registry.knobs.endless = 'packument';
    await refused(home, '@acme/echo', 'REGISTRY_RESPONSE_TOO_LARGE');
  });

  it('a dist.tarball on another host that is a private address, and a redirect to a private address', async () => {
    const home = await freshHome();
    registry.knobs.tarballBase = `http://localhost:${registry.port}/`;
    await refused(home, '@acme/echo', 'REGISTRY_ADDRESS_REFUSED');
    delete registry.knobs.tarballBase;
    registry.knobs.redirectTarballTo = 'http://169.254.169.254/latest/meta-data/';
    await refused(home, '@acme/echo', 'REGISTRY_ADDRESS_REFUSED');
  });

  it('a package with runtime dependencies', async () => {
    const home = await freshHome();
    await publish({ name: '@acme/with-deps', version: '1.0.0', dependencies: { 'left-pad': '^1.3.0' } });
    const message = await refused(home, '@acme/with-deps', 'DEPENDENCIES_UNSUPPORTED');
    expect(message).toContain('left-pad');
  });
});
