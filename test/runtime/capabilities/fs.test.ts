import { describe, expect, it } from 'vitest';
import { checkFs, checkFsRemoval, denyFsPaths, fsGrantToStrings, hasUnsafeNameChars, intersectFsGrants, isWithin, parseFsGrant, parseFsRule, showUnsafeNameChars } from '../../../runtime/capabilities/fs.ts';
import type { FsAccess } from '../../../runtime/capabilities/fs.ts';
import { SandboxError } from '../../../runtime/errors.ts';

function codeOf(rules: string[], access: FsAccess, path: string): string {
  const d = checkFs(parseFsGrant(rules), access, path);
  return d.allowed ? 'OK' : d.code;
}

describe('parseFsRule', () => {
  describe('when the rule is well formed', () => {
    it.each([
      ['read:/data', { access: 'read', path: '/data' }],
      ['write:/data/', { access: 'write', path: '/data' }],
      ['read:/data/./x//y/', { access: 'read', path: '/data/x/y' }],
      ['read:/data/x/../y', { access: 'read', path: '/data/y' }],
      ['write:/', { access: 'write', path: '/' }],
      ['  read:/data  ', { access: 'read', path: '/data' }],
    ])('parses %j', (text, expected) => {
      expect(parseFsRule(text)).toEqual(expected);
    });
  });

  describe('when the rule is junk', () => {
    it.each([['read:data'], ['read:./data'], ['read:'], ['exec:/bin'], ['/data'], ['read:/da\0ta'], ['READ:/data'], ['']])('rejects %j with RULE_INVALID', (text) => {
      let err: unknown;
      try {
        parseFsRule(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SandboxError);
      expect((err as SandboxError).code).toBe('RULE_INVALID');
    });
  });
});

describe('fsGrantToStrings', () => {
  it('round-trips and collapses duplicates', () => {
    const grant = parseFsGrant(['read:/a', 'write:/b/', 'write:/b']);
    expect(fsGrantToStrings(grant)).toEqual(['read:/a', 'write:/b']);
    expect(parseFsGrant(fsGrantToStrings(grant))).toEqual(grant);
  });
});

describe('isWithin', () => {
  it.each([
    ['/data', '/data', true],
    ['/data', '/data/x', true],
    ['/data', '/database', false],
    ['/data', '/dat', false],
    ['/data/x', '/data', false],
    ['/', '/anything', true],
    ['/', '/', true],
  ])('%s contains %s: %s', (root, p, expected) => {
    expect(isWithin(root, p)).toBe(expected);
  });
});

describe('checkFs', () => {
  const rules = ['read:/srv/data', 'write:/srv/out', 'read:/srv/mixed', 'write:/srv/mixed/sub'];

  it.each([
    ['read', '/srv/data', 'OK'],
    ['read', '/srv/data/a/b.txt', 'OK'],
    ['write', '/srv/data/a.txt', 'FS_READ_ONLY'],
    ['read', '/srv/database', 'FS_NOT_GRANTED'],
    ['read', '/srv/database/x', 'FS_NOT_GRANTED'],
    ['read', '/srv/dat', 'FS_NOT_GRANTED'],
    ['read', '/srv', 'FS_NOT_GRANTED'],
    ['read', '/', 'FS_NOT_GRANTED'],
    ['read', '/srv/out/x', 'OK'],
    ['write', '/srv/out/x', 'OK'],
    ['write', '/srv/outside', 'FS_NOT_GRANTED'],
    ['write', '/srv/mixed/a', 'FS_READ_ONLY'],
    ['write', '/srv/mixed/sub/a', 'OK'],
    ['read', '/etc/passwd', 'FS_NOT_GRANTED'],
    // The check takes resolved paths only: anything unnormalized is a caller bug, refused.
    ['read', '/srv/data/../../etc/passwd', 'FS_BAD_PATH'],
    ['read', '/srv/data/', 'FS_BAD_PATH'],
    ['read', '/srv/data/./x', 'FS_BAD_PATH'],
    ['read', 'srv/data/x', 'FS_BAD_PATH'],
    ['read', '/srv/data/x\0.txt', 'FS_BAD_PATH'],
    ['read', '', 'FS_BAD_PATH'],
  ] as const)('%s %j → %s', (access, path, code) => {
    expect(codeOf(rules, access, path)).toBe(code);
  });

  describe('when the grant is empty', () => {
    it('denies everything', () => {
      expect(codeOf([], 'read', '/srv/data')).toBe('FS_NOT_GRANTED');
    });
  });
});

describe('intersectFsGrants', () => {
  const strings = (req: string[], allowed: string[]): string[] => fsGrantToStrings(intersectFsGrants(parseFsGrant(req), parseFsGrant(allowed)));

  it.each([
    [['write:/data'], ['write:/data'], ['write:/data']],
    [['write:/data'], ['read:/data'], ['read:/data']],
    [['read:/data'], ['write:/data'], ['read:/data']],
    [['write:/data/sub'], ['write:/data'], ['write:/data/sub']],
    [['write:/data'], ['write:/data/sub'], ['write:/data/sub']],
    [['read:/data'], ['read:/database'], []],
    [['read:/'], ['read:/home/u'], ['read:/home/u']],
    [['read:/data'], [], []],
    [[], ['read:/data'], []],
  ])('%j ∩ %j → %j', (req, allowed, expected) => {
    expect(strings(req, allowed)).toEqual(expected);
  });

  describe('for any pair of grants', () => {
    const pool = ['read:/data', 'write:/data', 'write:/data/sub', 'read:/database', 'read:/', 'write:/tmp'];
    const probes = ['/data', '/data/sub/x', '/data/y', '/database', '/tmp/z', '/etc'];
    const cases = pool.flatMap((a) => pool.map((b) => [a, b] as const));
    it.each(cases)('%s ∩ %s never grants what either side refuses', (a, b) => {
      const ga = parseFsGrant([a]);
      const gb = parseFsGrant([b]);
      const both = intersectFsGrants(ga, gb);
      for (const p of probes) {
        for (const access of ['read', 'write'] as const) {
          expect(checkFs(both, access, p).allowed).toBe(checkFs(ga, access, p).allowed && checkFs(gb, access, p).allowed);
        }
      }
    });
  });
});

describe('denyFsPaths', () => {
  const grant = denyFsPaths(parseFsGrant(['write:/home/u', 'read:/srv']), ['/home/u/.mcp-warden/', '/srv/keys']);

  it.each([
    ['read', '/home/u/.mcp-warden', 'FS_NOT_GRANTED'],
    ['read', '/home/u/.mcp-warden/audit.key', 'FS_NOT_GRANTED'],
    ['write', '/home/u/.mcp-warden/lock.json', 'FS_NOT_GRANTED'],
    ['read', '/srv/keys/k.pem', 'FS_NOT_GRANTED'],
    // Whole segments: a sibling sharing the prefix is not denied.
    ['read', '/home/u/.mcp-warden-notes', 'OK'],
    ['write', '/home/u/work/x', 'OK'],
    ['read', '/srv/keysmith', 'OK'],
    ['read', '/home/u', 'OK'],
  ] as const)('%s %s → %s (deny wins over allow)', (access, path, code) => {
    const d = checkFs(grant, access, path);
    expect(d.allowed ? 'OK' : d.code).toBe(code);
  });

  it('keeps the rules, adds to earlier denials and is pure', () => {
    const base = parseFsGrant(['write:/a']);
    const once = denyFsPaths(base, ['/a/x']);
    const twice = denyFsPaths(once, ['/a/y', '/a/x']);
    expect(base).toEqual({ rules: [{ access: 'write', path: '/a' }] });
    expect(twice).toEqual({ rules: base.rules, deny: ['/a/x', '/a/y'] });
  });

  it.each([['relative'], [''], ['/a\0b']])('rejects the path %j with RULE_INVALID', (p) => {
    expect(() => denyFsPaths(parseFsGrant([]), [p])).toThrow(expect.objectContaining({ code: 'RULE_INVALID' }));
  });

  it('survives intersection on either side', () => {
    const allowed = denyFsPaths(parseFsGrant(['write:/home/u']), ['/home/u/.mcp-warden']);
    for (const g of [intersectFsGrants(parseFsGrant(['write:/home']), allowed), intersectFsGrants(allowed, parseFsGrant(['write:/home']))]) {
      expect(checkFs(g, 'read', '/home/u/.mcp-warden/trust.json').allowed).toBe(false);
      expect(checkFs(g, 'write', '/home/u/doc').allowed).toBe(true);
    }
  });
});

describe('checkFsRemoval', () => {
  const grant = denyFsPaths(parseFsGrant(['write:/w', 'read:/w/mid/ro']), ['/w/nest/home']);
  it.each([
    ['/w/file', 'OK'],
    ['/w/other', 'OK'],
    ['/w', 'FS_NOT_GRANTED'],
    ['/w/mid', 'FS_NOT_GRANTED'],
    ['/w/mid/ro', 'FS_NOT_GRANTED'],
    ['/w/nest', 'FS_NOT_GRANTED'],
    ['/w/nest/home', 'FS_NOT_GRANTED'],
    ['/', 'FS_NOT_GRANTED'],
  ])('removing %s → %s', (path, code) => {
    const d = checkFsRemoval(grant, path);
    expect(d.allowed ? 'OK' : d.code).toBe(code);
  });
});

describe('hasUnsafeNameChars', () => {
  it.each([
    ['plain.txt', false],
    ['café – ünïcode ✓.txt', false],
    ['שלום.txt', false],
    ['a\nb', true],
    ['a\tb', true],
    ['a\u001bb', true],
    ['a\u007fb', true],
    ['a\u0085b', true],
    ['a\u202eb', true],
    ['a\u2067b', true],
    ['a\u061cb', true],
    ['a\u200eb', true],
    ['a\u2029b', true],
  ])('%j → %s', (name, unsafe) => {
    expect(hasUnsafeNameChars(name)).toBe(unsafe);
    expect(hasUnsafeNameChars(showUnsafeNameChars(name))).toBe(false);
  });
});
