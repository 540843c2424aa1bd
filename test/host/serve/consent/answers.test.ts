/** Answers as changes to a lock entry (host/serve/consent/answers.ts): only asked rules, nothing else moves. */
import { describe, expect, it } from 'vitest';
import type { LockEntry } from '../../../../host/home/home.ts';
import { applyConsent, askedRule, consentCommand, parseAskedArg } from '../../../../host/serve/consent/answers.ts';
import { codeOf } from '../../../helpers/codes.ts';

const entry: LockEntry = {
  version: '1.0.0',
  integrity: 'sha512-x',
  signer: 'key:ab',
  dir: 'packages/w@1.0.0',
  installedAt: '2026-01-01T00:00:00Z',
  grant: { net: ['fixed.example.com'], fs: [], slots: { notes: '/srv/notes' } },
  asks: { net: ['api.example.com'], fs: ['write:/srv/notes'] },
};

describe('applyConsent', () => {
  it('"always" adds the asked rule to the grant (once), keeping the rest and the slot binding', () => {
    const once = applyConsent('w', entry, { kind: 'net', rule: 'api.example.com' }, 'always');
    expect(once.grant).toEqual({ net: ['fixed.example.com', 'api.example.com'], fs: [], slots: { notes: '/srv/notes' } });
    expect(applyConsent('w', once, { kind: 'net', rule: 'api.example.com' }, 'always').grant.net).toEqual(['fixed.example.com', 'api.example.com']);
    expect(once.refusals).toBeUndefined();
  });

  it('"never" records a refusal and takes back an earlier "always"; "forget" removes both', () => {
    const fs = { kind: 'fs' as const, rule: 'write:/srv/notes' };
    const always = applyConsent('w', entry, fs, 'always');
    const never = applyConsent('w', always, fs, 'never');
    expect(never.grant.fs).toEqual([]);
    expect(never.refusals).toEqual({ net: [], fs: ['write:/srv/notes'] });
    const forgot = applyConsent('w', never, fs, 'forget');
    expect(forgot.grant.fs).toEqual([]);
    expect(forgot.refusals).toBeUndefined();
  });

  it('refuses a rule the entry does not ask for, even one it was granted at install (GRANT_INVALID)', () => {
    expect(codeOf(() => applyConsent('w', entry, { kind: 'net', rule: 'evil.example.com' }, 'always'))).toBe('GRANT_INVALID');
    expect(codeOf(() => applyConsent('w', entry, { kind: 'net', rule: 'fixed.example.com' }, 'never'))).toBe('GRANT_INVALID');
    expect(codeOf(() => applyConsent('w', { ...entry, asks: undefined } as LockEntry, { kind: 'net', rule: 'api.example.com' }, 'always'))).toBe('GRANT_INVALID');
  });
});

describe('parseAskedArg', () => {
  it.each([
    ['net:api.example.com', { kind: 'net', rule: 'api.example.com' }],
    ['net:https://API.example.com:443', { kind: 'net', rule: 'api.example.com' }],
    ['fs:write:/srv/notes/', { kind: 'fs', rule: 'write:/srv/notes' }],
  ])('%s', (arg, expected) => expect(parseAskedArg(arg)).toEqual(expected));

  it.each(['api.example.com', 'disk:/srv', 'fs:/srv/notes', 'net:user:pw@host'])('refuses %s (USAGE)', (arg) => expect(codeOf(() => parseAskedArg(arg))).toBe('USAGE'));
});

describe('consentCommand and askedRule', () => {
  it('names the command, quoting a rule with spaces for the shell', () => {
    expect(consentCommand('weather', { kind: 'net', rule: 'api.example.com' })).toBe('mcp-warden grant weather --allow net:api.example.com');
    expect(consentCommand('@acme/w', { kind: 'net', rule: "GET api.example.com/it's" }, '--forget')).toBe(`mcp-warden grant @acme/w --forget 'net:GET api.example.com/it'\\''s'`);
  });

  it('gives what an "always" answer would grant, as rules the policy ceilings can check', () => {
    expect(askedRule({ kind: 'fs', rule: 'write:/srv/notes' })).toEqual({ net: [], fs: ['write:/srv/notes'] });
    expect(askedRule({ kind: 'net', rule: 'api.example.com' })).toEqual({ net: ['api.example.com'], fs: [] });
  });
});
