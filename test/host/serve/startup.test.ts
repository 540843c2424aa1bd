/**
 * serve's start-up around a load (host/serve/startup.ts): the home made usable, lock.json read into load
 * sources, and a load reported — refusals and audit records at once, the "package loaded" log lines only
 * when serve asks for them (after the first answer, issue 14's fifth pass).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { homeLayout } from '../../../host/home/home.ts';
import type { PackageRecord } from '../../../host/serve/audit-records.ts';
import { loadAll } from '../../../host/serve/loader.ts';
import { createLogger } from '../../../host/serve/logger.ts';
import { installedSources, prepareHome, reportLoad } from '../../../host/serve/startup.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';
import { digestTree, writeSealedLock } from '../../helpers/installed.ts';
import { tempDir } from '../../helpers/tool-package.ts';

function stderr(): { write(text: string): boolean; text: () => string } {
  let out = '';
  return {
    write: (t: string) => {
      out += t;
      return true;
    },
    text: () => out,
  };
}

function devPackage(name: string): string {
  const dir = tempDir('warden-startup-pkg-');
  writeFileSync(join(dir, 'index.js'), 'export default { t: () => "ok" };');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', mcpWarden: { entry: 'index.js', tools: [{ name: 't', description: 'd', inputSchema: { type: 'object' } }] } }));
  return dir;
}

describe('reportLoad', () => {
  it('reports refusals on stderr and records every package in the audit trail at once, and writes the "package loaded" lines only when asked', async () => {
    const home = homeLayout(tempDir('warden-startup-home-'));
    const missing = join(tempDir('warden-startup-missing-'), 'nothing-here');
    const loaded = await loadAll(
      [
        { kind: 'dev', dir: devPackage('good-one'), grantOverrides: { slots: {} } },
        { kind: 'dev', dir: missing, grantOverrides: { slots: {} } },
      ],
      { home, verify: () => Promise.reject(new Error('no installed packages here')) },
    );
    expect(loaded.packages.map((p) => p.name)).toEqual(['good-one']);
    expect(loaded.refused).toHaveLength(1);
    const err = stderr();
    const records: PackageRecord[] = [];
    const logFile = join(tempDir('warden-startup-log-'), 'serve.log');
    const logger = createLogger({ file: logFile });
    const logLoaded = reportLoad(loaded.packages, loaded.refused, { stderr: err }, { pkg: (r) => records.push(r) }, logger);
    expect(err.text()).toMatch(/^mcp-warden: REFUSED .*nothing-here: PACKAGE_INVALID: /);
    expect(records.map((r) => [r.package, r.event])).toEqual([
      [missing, 'refused'],
      ['good-one', 'loaded'],
    ]);
    // Nothing logged yet, not even a turn of the event loop later.
    await new Promise((r) => setImmediate(r));
    expect(readFileSync(logFile, 'utf8')).not.toContain('package loaded');
    logLoaded();
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string; package?: string });
    expect(lines.filter((l) => l.msg === 'package loaded').map((l) => l.package)).toEqual(['good-one']);
  });
});

describe('installedSources', () => {
  it('reads the installed packages of lock.json as load sources, sorted by name', async () => {
    const home = homeLayout(tempDir('warden-startup-home-'));
    const dirs = ['b-pkg', 'a-pkg'].map((name) => {
      const dir = join(home.packagesDir, `${name}@1.0.0`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'index.js'), 'export default {};');
      return { name, dir };
    });
    writeSealedLock(
      home.dir,
      Object.fromEntries(dirs.map(({ name, dir }) => [name, { version: '1.0.0', integrity: 'sha512-x', dir: `packages/${name}@1.0.0`, grant: { net: [], fs: [], slots: {} }, installedAt: '2026-01-01T00:00:00Z', files: digestTree(dir) }])),
    );
    const sources = await installedSources(home, { stderr: stderr() }, createLogger({ level: 'silent' }));
    expect(sources.map((s) => (s.kind === 'installed' ? s.entry.name : s.dir))).toEqual(['a-pkg', 'b-pkg']);
  });

  it('serves none from an unusable lock.json, and says why on stderr', async () => {
    const home = homeLayout(tempDir('warden-startup-home-'));
    writeFileSync(home.lockFile, '{ not json', { mode: 0o600 });
    const err = stderr();
    expect(await installedSources(home, { stderr: err }, createLogger({ level: 'silent' }))).toEqual([]);
    expect(err.text()).toMatch(/^mcp-warden: not serving installed packages: LOCK_INVALID: /);
  });
});

describe('prepareHome', () => {
  it('creates a missing home and refuses one that is a file (HOME_UNUSABLE)', async () => {
    const parent = tempDir('warden-startup-parent-');
    await prepareHome(homeLayout(join(parent, 'new-home')));
    const file = join(parent, 'a-file');
    writeFileSync(file, '');
    expect(await asyncCodeOf(() => prepareHome(homeLayout(file)))).toBe('HOME_UNUSABLE');
  });
});
