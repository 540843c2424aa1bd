import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keyIdOf, publicKeyPem } from '../../../host/signing/keys.ts';
import { addPublisher, findTrustedSigner, loadTrustPolicy, parsePublisher, parseScope, removePublisher, saveTrustPolicy, scopeMatches } from '../../../host/trust/policy.ts';
import type { TrustPolicy } from '../../../host/trust/policy.ts';
import { asyncCodeOf, codeOf } from '../../helpers/codes.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const pub = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const keyId = keyIdOf(pub);
const policy: TrustPolicy = {
  publishers: [
    parsePublisher({ name: 'acme-key', kind: 'key', publicKeyPem: publicKeyPem(pub), scope: ['@acme/*'] }),
    parsePublisher({ name: 'ci', kind: 'identity', identity: 'https://github.com/acme/tools/.github/workflows/release.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com' }),
    parsePublisher({ name: 'alice', kind: 'identity', identity: 'alice@example.com', issuer: 'https://accounts.example.com', scope: ['alice-tool'] }),
  ],
};

describe('scopeMatches', () => {
  it.each([
    ['@acme/*', '@acme/echo', true],
    ['@acme/*', '@acme/http-json', true],
    ['@acme/*', '@acme-evil/echo', false],
    ['@acme/*', '@acmex/echo', false],
    ['@acme/*', 'acme', false],
    ['@acme/*', '@acme', false],
    ['@acme/*', '@acme/', false],
    ['@acme/*', '@acme/a/b', false],
    ['@acme/*', '@ACME/echo', false],
    ['@acme/echo', '@acme/echo', true],
    ['@acme/echo', '@acme/echo2', false],
    ['@acme/echo', '@acme/ech', false],
    ['tool', 'tool', true],
    ['tool', 'tool-evil', false],
    ['tool', '@tool/tool', false],
  ])('%s against %s → %s', (rule, name, expected) => {
    expect(scopeMatches(parseScope(rule), name)).toBe(expected);
  });

  it.each(['*', '@acme/**', '@*/echo', 'acme*', '@acme/ech*', '', '../x', '@Acme/*'])('refuses the rule %j', (rule) => {
    expect(codeOf(() => parseScope(rule))).toBe('USAGE');
  });
});

describe('findTrustedSigner', () => {
  it('finds a pinned key for a package in its scope', () => {
    expect(findTrustedSigner(policy, { kind: 'key', keyId }, '@acme/echo')).toMatchObject({ trusted: true, publisher: { name: 'acme-key' } });
  });

  it('refuses a trusted key outside its scope (SIGNER_OUT_OF_SCOPE)', () => {
    expect(findTrustedSigner(policy, { kind: 'key', keyId }, '@other/echo')).toMatchObject({ trusted: false, code: 'SIGNER_OUT_OF_SCOPE' });
  });

  it('refuses an unknown key (UNTRUSTED_SIGNER)', () => {
    expect(findTrustedSigner(policy, { kind: 'key', keyId: 'f'.repeat(64) }, '@acme/echo')).toMatchObject({ trusted: false, code: 'UNTRUSTED_SIGNER' });
  });

  it('compares identities and issuers exactly', () => {
    const ci = policy.publishers[1];
    if (ci?.kind !== 'identity') throw new Error('fixture');
    expect(findTrustedSigner(policy, { kind: 'identity', identity: ci.identity, issuer: ci.issuer }, 'anything')).toMatchObject({ trusted: true });
    expect(findTrustedSigner(policy, { kind: 'identity', identity: `${ci.identity}x`, issuer: ci.issuer }, 'anything')).toMatchObject({ code: 'UNTRUSTED_SIGNER' });
    expect(findTrustedSigner(policy, { kind: 'identity', identity: ci.identity.replace('https://', 'https://evil.'), issuer: ci.issuer }, 'anything')).toMatchObject({ code: 'UNTRUSTED_SIGNER' });
    expect(findTrustedSigner(policy, { kind: 'identity', identity: ci.identity, issuer: 'https://evil.example' }, 'anything')).toMatchObject({ code: 'UNTRUSTED_SIGNER' });
    expect(findTrustedSigner(policy, { kind: 'identity', identity: 'evil-alice@example.com', issuer: 'https://accounts.example.com' }, 'alice-tool')).toMatchObject({ code: 'UNTRUSTED_SIGNER' });
  });

  it('never lets a key signer match an identity publisher or the reverse', () => {
    expect(findTrustedSigner(policy, { kind: 'identity', identity: keyId, issuer: '' }, '@acme/echo')).toMatchObject({ code: 'UNTRUSTED_SIGNER' });
  });

  it('trusts nothing with an empty policy', () => {
    expect(findTrustedSigner({ publishers: [] }, { kind: 'key', keyId }, '@acme/echo')).toMatchObject({ code: 'UNTRUSTED_SIGNER' });
  });
});

describe('trust.json', () => {
  it('saves atomically (0600, no temporary file left) and loads back the same policy', async () => {
    const file = join(tempDir(), 'home', 'trust.json');
    await saveTrustPolicy(file, policy);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(file, '..'))).toEqual(['trust.json']);
    expect(await loadTrustPolicy(file)).toEqual(policy);
  });

  it('reads a missing file as trusting nothing', async () => {
    expect(await loadTrustPolicy(join(tempDir(), 'none.json'))).toEqual({ publishers: [] });
  });

  it('refuses a key id that does not match its key (an edit cannot re-point a trusted name)', async () => {
    const file = join(tempDir(), 'trust.json');
    const doc = JSON.parse(JSON.stringify(policy)) as { publishers: { keyId?: string }[] };
    (doc.publishers[0] as { keyId?: string }).keyId = 'a'.repeat(64);
    writeFileSync(file, JSON.stringify(doc));
    expect(await asyncCodeOf(() => loadTrustPolicy(file))).toBe('TRUST_INVALID');
  });

  it.each([
    ['not JSON', 'nope'],
    ['no publisher list', '{}'],
    ['an unknown kind', '{"publishers":[{"name":"x","kind":"magic"}]}'],
    ['a bad scope', '{"publishers":[{"name":"x","kind":"identity","identity":"a","issuer":"b","scope":["*"]}]}'],
    ['a duplicate name', '{"publishers":[{"name":"x","kind":"identity","identity":"a","issuer":"b"},{"name":"x","kind":"identity","identity":"c","issuer":"d"}]}'],
  ])('refuses %s (TRUST_INVALID)', async (_what, text) => {
    const file = join(tempDir(), 'trust.json');
    writeFileSync(file, text);
    expect(await asyncCodeOf(() => loadTrustPolicy(file))).toBe('TRUST_INVALID');
  });

  it('adds and removes publishers by name', () => {
    const p = parsePublisher({ name: 'bob', kind: 'identity', identity: 'bob@example.com', issuer: 'https://i.example' });
    const added = addPublisher(policy, p);
    expect(added.publishers.map((x) => x.name)).toEqual(['acme-key', 'ci', 'alice', 'bob']);
    expect(codeOf(() => addPublisher(added, p))).toBe('USAGE');
    expect(removePublisher(added, 'bob')).toEqual(policy);
    expect(codeOf(() => removePublisher(policy, 'bob'))).toBe('USAGE');
  });
});
