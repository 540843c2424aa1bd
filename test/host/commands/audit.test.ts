/**
 * `mcp-warden audit verify` and `audit tail`, run as the built CLI on logs a real serve wrote.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { openAudit } from '../../../host/serve/audit.ts';
import { cli } from '../../helpers/cli.ts';
import { CLI, EXAMPLES, childEnv, ensureBuilt, startHost, tempDir } from '../../helpers/host.ts';

/** A home whose audit log a real serve wrote: `calls` calls of text-tools, then a clean stop. */
async function servedHome(calls: number, config?: object): Promise<string> {
  const home = tempDir('audit-cmd');
  if (config) writeFileSync(join(home, 'config.json'), JSON.stringify(config), { mode: 0o600 });
  const h = await startHost({ home, args: ['--dev', join(EXAMPLES, 'text-tools')] });
  try {
    for (let i = 0; i < calls; i++) {
      const r = (await h.client.callTool({ name: 'text-tools__convert_case', arguments: { text: `x${i}`, to: 'upper' } })) as CallToolResult;
      expect(r.isError).toBeFalsy();
    }
  } finally {
    await h.close();
  }
  return home;
}

const logOf = (home: string) => join(home, 'audit.log');
const linesOf = (home: string) => readFileSync(logOf(home), 'utf8').split('\n').slice(0, -1);
const rewrite = (home: string, lines: string[]) => writeFileSync(logOf(home), `${lines.join('\n')}\n`);
const verify = (home: string, ...flags: string[]) => cli(['audit', 'verify', '--home', home, ...flags], { cwd: home });
/** The line number (1-based) of the n-th call record. */
const callLine = (lines: string[], n: number) => lines.map((l, i) => [l, i + 1] as const).filter(([l]) => l.includes('"type":"call"'))[n]?.[1] as number;

describe('audit verify', () => {
  it('says a clean log is intact and exits 0', async () => {
    const home = await servedHome(3);
    const r = await verify(home);
    expect(r.stdout).toMatch(/audit\.log: \d+ records, intact/);
    expect(r.code).toBe(0);
  });

  it('catches an edited line: names the file and line, exits 1 with AUDIT_TAMPERED', async () => {
    const home = await servedHome(3);
    const lines = linesOf(home);
    const n = callLine(lines, 1);
    rewrite(home, lines.map((l, i) => (i + 1 === n ? l.replace('"outcome":"ok"', '"outcome":"INVALID_ARGUMENTS"') : l)));
    const r = await verify(home);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`audit.log:${n}: edited:`);
    expect(r.stderr).toMatch(/^mcp-warden audit verify: AUDIT_TAMPERED: 1 problem\(s\) in the audit log \(edited\)/);
  });

  it('catches a removed line', async () => {
    const home = await servedHome(3);
    const lines = linesOf(home);
    const n = callLine(lines, 1);
    rewrite(home, lines.filter((_, i) => i + 1 !== n));
    const r = await verify(home);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`audit.log:${n}: removed: a record is missing between audit.log:${n - 1} and this line`);
  });

  it('catches a reordered pair', async () => {
    const home = await servedHome(3);
    const lines = linesOf(home);
    const n = callLine(lines, 1);
    const swapped = [...lines];
    [swapped[n - 1], swapped[n]] = [lines[n] as string, lines[n - 1] as string];
    rewrite(home, swapped);
    const r = await verify(home, '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; problems: { kind: string; file: string; line: number }[] };
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toEqual(expect.objectContaining({ kind: 'reordered', file: 'audit.log', line: n }));
  });

  it('catches a file truncated in the middle of a record', async () => {
    const home = await servedHome(3);
    const text = readFileSync(logOf(home), 'utf8');
    writeFileSync(logOf(home), text.slice(0, text.length - 30));
    const r = await verify(home);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/audit\.log:\d+: truncated: the file ends in the middle of a record/);
  });

  it('catches a file truncated at a line boundary (the stopped serve\'s "closed" record is gone)', async () => {
    const home = await servedHome(3);
    rewrite(home, linesOf(home).slice(0, -2));
    const r = await verify(home);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/truncated: serve [0-9a-f]{12}'s records end at audit\.log:\d+ without its "closed" record/);
  });

  it('verifies a clean log across a rotation (config.json audit.maxBytes), and catches a rotated file edited', async () => {
    const home = await servedHome(24, { audit: { maxBytes: 4096, keep: 3 } });
    expect(existsSync(`${logOf(home)}.1`)).toBe(true);
    const ok = await verify(home, '--json');
    const report = JSON.parse(ok.stdout) as { ok: boolean; files: string[]; records: number };
    expect(report.ok).toBe(true);
    expect(report.files.at(-1)).toBe('audit.log');
    expect(report.files.length).toBeGreaterThan(1);
    expect(ok.code).toBe(0);

    const rotated = `${logOf(home)}.1`;
    writeFileSync(rotated, readFileSync(rotated, 'utf8').replace('"outcome":"ok"', '"outcome":"XX"'));
    const bad = await verify(home);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^audit\.log\.1:\d+: edited:/m);
  });

  it('refuses a log it cannot check without the key (AUDIT_TAMPERED), and says so on a home with no log', async () => {
    const empty = tempDir('audit-cmd');
    const none = await verify(empty);
    expect([none.code, none.stdout]).toEqual([0, 'no audit log in this home yet\n']);
    const home = await servedHome(1);
    writeFileSync(join(home, 'audit.key'), '', { mode: 0o600 });
    const r = await verify(home);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mcp-warden audit: AUDIT_TAMPERED: the audit key \(audit\.key\) is missing or damaged/);
  });
});

describe('audit tail', () => {
  it('shows the recent calls readably, filtered by package and count', async () => {
    const home = tempDir('audit-tail');
    const audit = await openAudit(logOf(home), join(home, 'audit.key'), { now: () => new Date('2030-01-01T00:00:00Z') });
    audit.pkg({ package: 'a', event: 'loaded', origin: 'dev' });
    audit.call({ package: 'a', version: '1.0.0', tool: 'one', argsDigest: 'd', durationMs: 2, outcome: 'ok' });
    audit.capability('b', 'two', { kind: 'net', op: 'GET', target: 'https://evil.example.com:443\u001b[2J', allowed: false, code: 'NET_NOT_GRANTED' });
    audit.call({ package: 'b', version: '1.0.0', tool: 'two', argsDigest: 'd', durationMs: 3, outcome: 'CAPABILITY_DENIED' });
    await audit.close();
    const all = await cli(['audit', 'tail', '--home', home], { cwd: home });
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n').slice(0, -1)).toEqual([
      '2030-01-01T00:00:00.000Z  package     a loaded (dev)',
      '2030-01-01T00:00:00.000Z  call        a one  ok  2 ms',
      // A target is the tool's: control characters are not passed to the terminal.
      '2030-01-01T00:00:00.000Z  capability  b two  net GET https://evil.example.com:443 [2J  DENIED NET_NOT_GRANTED',
      '2030-01-01T00:00:00.000Z  call        b two  CAPABILITY_DENIED  3 ms',
    ]);
    const b = await cli(['audit', 'tail', '--home', home, '--package', 'b', '--lines', '1'], { cwd: home });
    expect(b.stdout).toBe('2030-01-01T00:00:00.000Z  call        b two  CAPABILITY_DENIED  3 ms\n');
    const json = await cli(['audit', 'tail', '--home', home, '--package', 'a', '--json'], { cwd: home });
    expect(json.stdout.split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(['package', 'call']);
  });

  it('--follow prints each new record as a serve writes it, across a rotation, and ends on SIGINT', async () => {
    ensureBuilt();
    const home = tempDir('audit-follow');
    const config = { maxBytes: 4096, keep: 2 };
    const first = await openAudit(logOf(home), join(home, 'audit.key'), { config });
    first.call({ package: 'p', version: '1.0.0', tool: 'before', argsDigest: 'd', durationMs: 1, outcome: 'ok' });
    const child = spawn(process.execPath, [CLI, 'audit', 'tail', '--follow', '--home', home], { cwd: home, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const waiters: { pattern: RegExp; resolve: () => void }[] = [];
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      for (const w of waiters.filter((x) => x.pattern.test(out))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
    const printed = (pattern: RegExp) => (pattern.test(out) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ pattern, resolve })));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await printed(/call {8}p before {2}ok/);
      first.call({ package: 'p', version: '1.0.0', tool: 'after', argsDigest: 'd', durationMs: 1, outcome: 'ok' });
      await printed(/call {8}p after {2}ok/);
      // Enough records to rotate audit.log (4 KiB) at least once: the follower moves on to the new file.
      for (let i = 0; i < 20; i++) first.call({ package: 'p', version: '1.0.0', tool: `bulk${i}`, argsDigest: 'd', durationMs: 1, outcome: 'ok' });
      expect(existsSync(`${logOf(home)}.1`)).toBe(true);
      first.call({ package: 'p', version: '1.0.0', tool: 'rotated', argsDigest: 'd', durationMs: 1, outcome: 'ok' });
      await printed(/call {8}p rotated {2}ok/);
      // None lost around the rotation (the renamed file's rest is read before the new file), none twice, in order.
      const tools = [...out.matchAll(/call {8}p (\S+)/g)].map((m) => m[1]);
      expect(tools).toEqual(['before', 'after', ...Array.from({ length: 20 }, (_, i) => `bulk${i}`), 'rotated']);
    } finally {
      await first.close();
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});

describe('serve and config.json', () => {
  it('refuses to start with an invalid config.json: one line with CONFIG_INVALID naming the field', async () => {
    const home = tempDir('audit-config');
    writeFileSync(join(home, 'config.json'), JSON.stringify({ audit: { maxBytes: 'big' } }), { mode: 0o600 });
    const r = await cli(['serve', '--home', home], { cwd: home });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('mcp-warden serve: CONFIG_INVALID: config.json: config.audit.maxBytes must be integer; see docs/config.md\n');
  });
});
