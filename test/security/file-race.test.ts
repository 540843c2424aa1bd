import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { grantOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// Another local process swaps a directory inside the grant with a symlink to a directory outside it, in a
// loop, while a tool reads, writes, creates and removes under that directory. Path-based checks race (the
// check sees the directory, the operation the symlink); fd-anchored resolution must never let an
// operation land outside.
const root = realpathSync(mkdtempSync(join(tmpdir(), 'warden-race-')));
const granted = join(root, 'granted');
const outside = join(root, 'outside');
mkdirSync(join(granted, 'sub'), { recursive: true });
mkdirSync(outside);
writeFileSync(join(granted, 'sub', 'f'), 'inside');
writeFileSync(join(outside, 'f'), 'OUTSIDE');
writeFileSync(join(outside, 'keep'), 'keep');
symlinkSync(outside, join(granted, '.alt'));

const sandbox = newSandbox();
afterAll(async () => {
  await sandbox.close();
  rmSync(root, { recursive: true, force: true });
});

// sub ⇄ symlink to outside, by atomic renames; it stops between iterations when stdin closes, always
// leaving sub a real directory. Bounded by its iteration count, not by time.
const RACER = `
const fs = require('node:fs');
const [dir, max] = [process.argv[1], Number(process.argv[2])];
const sub = dir + '/sub', real = dir + '/.real', alt = dir + '/.alt';
let stop = false;
process.stdin.on('data', () => {});
process.stdin.on('end', () => { stop = true; });
let i = 0;
(async () => {
  process.stdout.write('ready\\n');
  while (!stop && i < max) {
    for (let k = 0; k < 20 && i < max; k++, i++) {
      fs.renameSync(sub, real); fs.renameSync(alt, sub);
      for (let s = 0; s < 3; s++) fs.lstatSync(sub);
      fs.renameSync(sub, alt); fs.renameSync(real, sub);
      for (let s = 0; s < 3; s++) fs.lstatSync(sub);
    }
    await new Promise((r) => setImmediate(r));
  }
  process.stdout.write('done ' + i + '\\n');
})();
`;

const tool = inlinePackage(`export default {
  race: async ({ sub, n, round }, ctx) => {
    const seen = {};
    const note = (k) => { seen[k] = (seen[k] || 0) + 1; };
    for (let i = 0; i < n; i++) {
      try { note('read:' + (await ctx.fs.readFile(sub + '/f', 'utf8'))); } catch (e) { note('read:' + e.code); }
      try { await ctx.fs.writeFile(sub + '/w' + round + '-' + i, 'x'); note('write:ok'); } catch (e) { note('write:' + e.code); }
      try { await ctx.fs.mkdir(sub + '/m' + round + '-' + i); note('mkdir:ok'); } catch (e) { note('mkdir:' + e.code); }
      try { await ctx.fs.rm(sub + '/keep'); note('rm:ok'); } catch (e) { note('rm:' + e.code); }
    }
    return seen;
  },
}`);

describe('a directory swapped with a symlink by another process', () => {
  it('never lets a read, write, mkdir or rm land outside the grant', async () => {
    const racer = spawn(process.execPath, ['-e', RACER, granted, '1000000'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: racer.stdout });
    const it = lines[Symbol.asyncIterator]();
    expect((await it.next()).value).toBe('ready');

    const grant = await grantOf([], [`write:${granted}`]);
    const totals: Record<string, number> = {};
    for (let round = 0; round < 5; round++) {
      const { value } = await sandbox.run(tool, 'race', { sub: join(granted, 'sub'), n: 50, round }, grant, limits({ cpuMs: 5_000, wallMs: 60_000 }));
      for (const [k, v] of Object.entries(value as Record<string, number>)) totals[k] = (totals[k] ?? 0) + v;
    }
    racer.stdin.end();
    const done = (await it.next()).value as string;
    await once(racer, 'exit');

    expect(Number(/^done (\d+)$/.exec(done)?.[1])).toBeGreaterThan(0);
    expect(totals['read:OUTSIDE'] ?? 0).toBe(0);
    expect(readdirSync(outside).sort()).toEqual(['f', 'keep']);
    expect(readFileSync(join(outside, 'f'), 'utf8')).toBe('OUTSIDE');
    expect(existsSync(join(outside, 'keep'))).toBe(true);
    // Some operations went through (the test exercised the real path, not only refusals).
    expect(totals['write:ok'] ?? 0).toBeGreaterThan(0);
  }, 180_000);
});
