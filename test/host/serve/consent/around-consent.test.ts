/**
 * What consent at first use changes around it: inspect shows asked capabilities (a package cannot hide one
 * from review by marking it "ask"), and a refusal for want of consent is not counted toward quarantine.
 */
import { describe, expect, it } from 'vitest';
import * as inspect from '../../../../host/commands/inspect.ts';
import { isDenial } from '../../../../host/serve/quarantine.ts';
import { testHome } from '../../../helpers/home-fixture.ts';
import { runCommandModule } from '../../../helpers/run-command.ts';

describe('inspect of a package with asked capabilities', () => {
  it('lists each asked rule and slot as asked at first use', async () => {
    const t = await testHome();
    await t.install('w', '1.0.0', { net: ['fixed.example.com', { rule: 'api.example.com', consent: 'ask', description: 'forecasts' }, { slot: 'mirror', consent: 'ask' }], fs: [{ rule: 'write:/srv/notes', consent: 'ask' }] });
    const r = await runCommandModule(inspect, ['w', '--home', t.home.dir], { cwd: '/' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('network  fixed.example.com\n');
    expect(r.stdout).toContain('network  api.example.com (asked at first use): forecasts');
    expect(r.stdout).toContain('network  slot mirror (asked at first use)');
    expect(r.stdout).toContain('files    write:/srv/notes (asked at first use)');
  });
});

describe('quarantine counting', () => {
  it.each([
    [{ kind: 'net', allowed: false, code: 'NET_NOT_GRANTED' }, true],
    [{ kind: 'fs', allowed: false, code: 'FS_NOT_GRANTED' }, true],
    [{ kind: 'net', allowed: false, code: 'CONSENT_REFUSED' }, false],
    [{ kind: 'fs', allowed: false, code: 'CONSENT_REQUIRED' }, false],
    [{ kind: 'net', allowed: false, code: 'CONSENT_DENIED' }, false],
    [{ kind: 'net', allowed: true }, false],
  ])('%j counts as a denial: %s', (event, expected) => expect(isDenial(event)).toBe(expected));
});
