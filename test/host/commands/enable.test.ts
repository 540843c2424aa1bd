/** `enable` lifts a quarantine (quarantine.json); `list` marks a quarantined package with its reason. */
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as enable from '../../../host/commands/enable.ts';
import * as install from '../../../host/commands/install.ts';
import * as list from '../../../host/commands/list.ts';
import { homeLayout } from '../../../host/home/home.ts';
import { addQuarantine, parseQuarantineFile, readQuarantine } from '../../../host/home/quarantine-file.ts';
import { publicKeyPem } from '../../../host/signing/keys.ts';
import { parsePublisher, saveTrustPolicy } from '../../../host/trust/policy.ts';
import { packToBuffer } from '../../../host/pack/pack.ts';
import { signedWithKey, writeEchoPackage, writeSigned } from '../../helpers/install-fixtures.ts';
import { runCommandModule } from '../../helpers/run-command.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const acme = generateKeyPairSync('ec', { namedCurve: 'P-256' });

async function installed(): Promise<{ work: string; home: string }> {
  const work = tempDir('mcpw-enable-');
  const home = join(work, 'home');
  const t = (await packToBuffer(writeEchoPackage('echo', '1.0.0'))).data;
  await saveTrustPolicy(join(home, 'trust.json'), { publishers: [parsePublisher({ name: 'acme', kind: 'key', publicKeyPem: publicKeyPem(acme.publicKey) })] });
  const r = await runCommandModule(install as never, [writeSigned(work, 'echo.tgz', t, signedWithKey(t, acme.privateKey)), '--yes', '--home', home], { cwd: work });
  expect(r.code).toBe(0);
  return { work, home };
}

const ENTRY = { since: '2026-11-30T10:00:00.000Z', reason: '3 refused capability requests within 600 s', kind: 'capability' as const };

describe('enable and list', () => {
  it('list marks a quarantined package with its reason; enable lifts it', async () => {
    const { work, home } = await installed();
    await addQuarantine(homeLayout(home), 'echo', ENTRY);
    const text = (await runCommandModule(list as never, ['--home', home], { cwd: work })).stdout;
    expect(text).toContain('echo@1.0.0 (QUARANTINED)\n  QUARANTINED since 2026-11-30T10:00:00.000Z: 3 refused capability requests within 600 s; re-enable with "mcp-warden enable echo"');
    const json = JSON.parse((await runCommandModule(list as never, ['--home', home, '--json'], { cwd: work })).stdout);
    expect(json.packages[0].quarantined).toEqual(ENTRY);

    const r = await runCommandModule(enable as never, ['echo', '--home', home], { cwd: work });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('enabled echo\n');
    expect(await readQuarantine(homeLayout(home))).toEqual({});
    expect((await runCommandModule(list as never, ['--home', home], { cwd: work })).stdout).not.toContain('QUARANTINED');
    expect((await runCommandModule(enable as never, ['echo', '--home', home], { cwd: work })).stdout).toBe('echo is not quarantined\n');
  });

  it('enable rewrites a damaged quarantine.json, which serve and list refuse with QUARANTINE_INVALID', async () => {
    const { work, home } = await installed();
    writeFileSync(join(home, 'quarantine.json'), '{"version":1,"packages":{"echo":{"since":1}}}', { mode: 0o600 });
    await expect(readQuarantine(homeLayout(home))).rejects.toMatchObject({ code: 'QUARANTINE_INVALID' });
    const l = await runCommandModule(list as never, ['--home', home], { cwd: work });
    expect(l.code).not.toBe(0);
    expect(l.stderr).toContain('QUARANTINE_INVALID');
    expect((await runCommandModule(enable as never, ['echo', '--home', home], { cwd: work })).stdout).toBe('enabled echo\n');
    expect(JSON.parse(readFileSync(join(home, 'quarantine.json'), 'utf8'))).toEqual({ version: 1, packages: {} });
  });

  it('takes exactly one name', async () => {
    const r = await runCommandModule(enable as never, ['--home', tempDir('mcpw-enable-')], { cwd: '/' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('USAGE');
  });
});

describe('quarantine.json', () => {
  it('is refused when others can write it', async () => {
    const dir = tempDir('mcpw-qfile-');
    mkdirSync(join(dir, 'home'), { mode: 0o700 });
    writeFileSync(join(dir, 'home', 'quarantine.json'), '{"version":1,"packages":{}}');
    chmodSync(join(dir, 'home', 'quarantine.json'), 0o666);
    await expect(readQuarantine(homeLayout(join(dir, 'home')))).rejects.toMatchObject({ code: 'HOME_UNSAFE' });
  });

  it('parses only its own shape', () => {
    expect(parseQuarantineFile(undefined)).toEqual({});
    expect(parseQuarantineFile({ version: 1, packages: { a: ENTRY } })).toEqual({ a: ENTRY });
    for (const bad of [null, [], { version: 2, packages: {} }, { version: 1 }, { version: 1, packages: { a: { ...ENTRY, kind: 'other' } } }]) expect(() => parseQuarantineFile(bad)).toThrow(/QUARANTINE|quarantine\.json/);
  });
});
