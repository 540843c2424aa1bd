import { chmodSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extraPolicyFiles, loadOrgPolicy, systemPolicyPath } from '../../../host/policy/load.ts';
import { parsePolicy } from '../../../host/policy/parse.ts';
import { asyncCodeOf, codeOf } from '../../helpers/codes.ts';

const uid = process.getuid?.() ?? 0;

function dirWith(doc: unknown, mode = 0o600): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mcpw-policy-'));
  const file = join(dir, 'policy.json');
  writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc), { mode });
  chmodSync(file, mode);
  return { dir, file };
}

describe('systemPolicyPath', () => {
  it.each([
    ['linux', {}, '/etc/mcp-warden/policy.json'],
    ['darwin', {}, '/Library/Application Support/mcp-warden/policy.json'],
    ['win32', { ProgramData: 'D:\\ProgramData' }, 'D:\\ProgramData\\mcp-warden\\policy.json'],
  ] as const)('%s', (platform, env, expected) => {
    expect(systemPolicyPath(platform, env)).toBe(expected);
  });
});

describe('parsePolicy', () => {
  it.each([
    ['an unknown key (closed schema)', { signer: [] }],
    ['a misspelt capability', { capabilities: { network: [] } }],
    ['a key id that is not hex', { signers: [{ kind: 'key', keyId: 'nothex' }] }],
    ['an identity without its issuer', { signers: [{ kind: 'identity', identity: 'a@b' }] }],
    ['a bad scope', { signers: [{ kind: 'key', keyId: 'a'.repeat(64), scope: ['@acme'] }] }],
    ['a blocked name that is no scope rule', { blocked: { packages: ['Not A Name'] } }],
    ['a digest that is not sha512 SRI', { blocked: { digests: ['sha256-abc'] } }],
    ['a net rule that does not parse', { capabilities: { net: ['*.com'] } }],
    ['a relative fs rule', { capabilities: { fs: ['read:srv'] } }],
    ['secrets: true (only false or a list)', { capabilities: { secrets: true } }],
    ['a limit of the wrong type', { limits: { memoryMb: '64' } }],
    ['an unknown limit', { limits: { memory: 64 } }],
    ['not an object', []],
  ])('refuses %s with POLICY_INVALID', (_label, doc) => {
    expect(codeOf(() => parsePolicy(doc, '/p.json'))).toBe('POLICY_INVALID');
  });

  it('names the file and the field in one line', () => {
    let message = '';
    try {
      parsePolicy({ capabilities: { net: ['*.com'] } }, '/etc/mcp-warden/policy.json');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^policy \/etc\/mcp-warden\/policy\.json: capabilities\.net: invalid net rule/);
    expect(message).not.toContain('\n');
  });
});

describe('loadOrgPolicy', () => {
  it('no system file and no extra file: no policy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpw-policy-'));
    expect(await loadOrgPolicy({ systemFile: join(dir, 'policy.json'), systemOwners: [uid] })).toEqual({ layers: [] });
  });

  it('reads the system file and the extra files, in order', async () => {
    const system = dirWith({ blocked: { packages: ['a'] } });
    const extra = dirWith({ blocked: { packages: ['b'] } });
    const p = await loadOrgPolicy({ systemFile: system.file, systemOwners: [uid], extraFiles: [extra.file] });
    expect(p.layers.map((l) => [l.source, l.blockedPackages])).toEqual([
      [system.file, ['a']],
      [extra.file, ['b']],
    ]);
  });

  it.runIf(uid !== 0)('refuses a system file the user owns (it must be root\'s: the user could edit it)', async () => {
    const system = dirWith({});
    expect(await asyncCodeOf(() => loadOrgPolicy({ systemFile: system.file }))).toBe('POLICY_INVALID');
  });

  it('refuses a system file owned by a user not allowed to own it', async () => {
    const system = dirWith({});
    expect(await asyncCodeOf(() => loadOrgPolicy({ systemFile: system.file, systemOwners: [uid + 1] }))).toBe('POLICY_INVALID');
  });

  it.each([
    ['the file is writable by others', 0o602, 0o700],
    ['the file is writable by its group', 0o620, 0o700],
    ['its directory is writable by others', 0o600, 0o757],
  ])('fails closed when %s', async (_label, fileMode, dirMode) => {
    for (const as of ['system', 'extra'] as const) {
      const { dir, file } = dirWith({}, fileMode);
      chmodSync(dir, dirMode);
      const sources = as === 'system' ? { systemFile: file, systemOwners: [uid] } : { systemFile: null, extraFiles: [file] };
      expect([as, await asyncCodeOf(() => loadOrgPolicy(sources))]).toEqual([as, 'POLICY_INVALID']);
    }
  });

  it.each([
    ['not JSON', '{ "signers": '],
    ['off-schema', { allowEverything: true }],
  ])('fails closed on a present file that is %s', async (_label, doc) => {
    const { file } = dirWith(doc);
    expect(await asyncCodeOf(() => loadOrgPolicy({ systemFile: file, systemOwners: [uid] }))).toBe('POLICY_INVALID');
  });

  it('fails closed on a system path that is a directory, and on a missing --policy file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpw-policy-'));
    mkdirSync(join(dir, 'policy.json'));
    expect(await asyncCodeOf(() => loadOrgPolicy({ systemFile: join(dir, 'policy.json'), systemOwners: [uid] }))).toBe('POLICY_INVALID');
    expect(await asyncCodeOf(() => loadOrgPolicy({ systemFile: null, extraFiles: [join(dir, 'missing.json')] }))).toBe('POLICY_INVALID');
  });

  it('compares file ceilings on real paths: a prefix given through a symlink still covers the real directory', async () => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'mcpw-policy-real-')));
    mkdirSync(join(base, 'data'));
    symlinkSync(join(base, 'data'), join(base, 'link'));
    const { file } = dirWith({ capabilities: { fs: [`read:${join(base, 'link')}`] } });
    const p = await loadOrgPolicy({ systemFile: null, extraFiles: [file] });
    const fs = p.layers[0]?.fs;
    expect(fs?.kind === 'rules' ? fs.grant.rules.map((r) => r.path) : []).toEqual([join(base, 'data')]);
  });

  it('extra files: --policy flags then $MCP_WARDEN_POLICY, resolved against the working directory', () => {
    expect(extraPolicyFiles(['a.json', '/abs/b.json'], { MCP_WARDEN_POLICY: 'c.json' }, '/work')).toEqual(['/work/a.json', '/abs/b.json', '/work/c.json']);
    expect(extraPolicyFiles(undefined, { MCP_WARDEN_POLICY: '' }, '/work')).toEqual([]);
  });
});
