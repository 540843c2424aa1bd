/**
 * lock.json is read against its published schema, and its grants are typed: every rule is parsed with
 * runtime's parsers when the lock is read. A file that fails is one clear line with a code.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { homeLayout, lockSchema, readLock } from '../../../host/home/home.ts';
import { loadTrustPolicy, trustSchema } from '../../../host/trust/policy.ts';
import { testHome } from '../../helpers/home-fixture.ts';
import { errorOf } from '../../helpers/codes.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const entry = {
  version: '1.0.0',
  integrity: `sha512-${'A'.repeat(86)}==`,
  signer: `key:${'0'.repeat(64)}`,
  dir: 'packages/x@1.0.0',
  grant: { net: [] as string[], fs: [] as string[], slots: {} },
  installedAt: '2026-01-01T00:00:00Z',
};

function withLock(data: unknown): ReturnType<typeof homeLayout> {
  const home = homeLayout(tempDir('mcpw-lock-'));
  writeFileSync(home.lockFile, typeof data === 'string' ? data : JSON.stringify(data), { mode: 0o600 });
  return home;
}

describe('readLock', () => {
  it('reads what install writes: grants as canonical rules', async () => {
    const t = await testHome();
    await t.install('@acme/echo', '1.0.0', { net: ['https://API.example.com:443'], fs: ['read:/tmp//x/'] });
    const lock = await readLock(t.home);
    expect(lock.packages['@acme/echo']?.grant).toMatchObject({ net: ['api.example.com'], fs: ['read:/tmp/x'] });
  });

  it('install refuses a manifest rule that does not parse, before recording it (MANIFEST_INVALID)', async () => {
    const t = await testHome();
    expect(await errorOf(() => t.install('@acme/echo', '1.0.0', { net: ['*.com'] }))).toMatchObject({ code: 'MANIFEST_INVALID' });
    expect(await readLock(t.home)).toEqual({ version: 1, packages: {} });
  });

  it.each([
    ['not JSON', '{', /LOCK_INVALID|is not valid JSON/],
    ['an unknown top-level field', { version: 1, packages: {}, extra: true }, /does not match its schema: lock: unexpected property "extra"/],
    ['an entry without its integrity', { version: 1, packages: { x: { ...entry, integrity: undefined } } }, /missing required property "integrity"/],
    ['a wrong version', { version: 2, packages: {} }, /schema/],
    ['an unknown entry field', { version: 1, packages: { x: { ...entry, evil: 1 } } }, /unexpected property "evil"/],
  ])('refuses %s (LOCK_INVALID, one line)', async (_what, data, message) => {
    const e = await errorOf(() => readLock(withLock(data)));
    expect(e.code).toBe('LOCK_INVALID');
    expect(e.message).toMatch(message);
    expect(e.message.split('\n')).toHaveLength(1);
  });

  it.each([
    ['a wildcard network rule without a scheme', { net: ['*.com'], fs: [] }],
    ['a network rule with a path and query', { net: ['https://evil.com/path?q'], fs: [] }],
    ['a file rule without an access', { net: [], fs: ['/etc'] }],
  ])('refuses %s recorded in a grant (GRANT_INVALID)', async (_what, grant) => {
    const e = await errorOf(() => readLock(withLock({ version: 1, packages: { x: { ...entry, grant: { ...grant, slots: {} } } } })));
    expect(e.code).toBe('GRANT_INVALID');
    expect(e.message).toMatch(/^lock\.json: entry "x" has a grant rule that does not parse/);
  });

  it('publishes its schema and trust.json\'s', () => {
    expect(lockSchema()).toMatchObject({ $id: expect.stringContaining('lock.schema.json') });
    expect(trustSchema()).toMatchObject({ $id: expect.stringContaining('trust.schema.json') });
  });
});

describe('loadTrustPolicy', () => {
  it('refuses a trust.json that does not match its schema (TRUST_INVALID)', async () => {
    const file = `${tempDir('mcpw-trust-')}/trust.json`;
    writeFileSync(file, JSON.stringify({ publishers: [{ name: 'x', kind: 'identity', identity: 'a', issuer: 'b', wildcard: true }] }), { mode: 0o600 });
    expect(await errorOf(() => loadTrustPolicy(file))).toMatchObject({ code: 'TRUST_INVALID', message: expect.stringMatching(/schema/) });
  });
});
