import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../runtime/types.ts';
import { grantOf, inlinePackage, limits, newSandbox } from '../helpers/sandbox.ts';

// A hostile tool tries to fill the disk through a write grant: many writes in one call, many calls.
const root = realpathSync(mkdtempSync(join(tmpdir(), 'warden-quota-')));
const sandbox = newSandbox();
afterAll(async () => {
  await sandbox.close();
  rmSync(root, { recursive: true, force: true });
});

const tool = inlinePackage(`export default {
  fill: async ({ dir, prefix, size, count }, ctx) => {
    const data = new Uint8Array(size);
    const out = [];
    for (let i = 0; i < count; i++) {
      try { await ctx.fs.writeFile(dir + '/' + prefix + i, data); out.push('ok'); }
      catch (e) { out.push(e.code + ': ' + e.message); }
    }
    return out;
  },
}`);

function fresh(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
}

describe('cumulative write quota', () => {
  it('refuses the write that would take one call past writeBytes, with QUOTA_EXCEEDED, and creates nothing for it', async () => {
    const dir = fresh('per-call');
    const grant = await grantOf([], [`write:${dir}`]);
    const lim = limits({ maxWriteBytes: 1000, writeBytes: 2500 });
    const { value } = await sandbox.run(tool, 'fill', { dir, prefix: 'a', size: 1000, count: 3 }, grant, lim);
    const out = value as string[];
    expect(out.slice(0, 2)).toEqual(['ok', 'ok']);
    expect(out[2]).toMatch(/^QUOTA_EXCEEDED: writeFile .*a2: .*writeBytes/);
    expect(readdirSync(dir).sort()).toEqual(['a0', 'a1']);
    // The quota is per call: the next call may write again.
    expect((await sandbox.run(tool, 'fill', { dir, prefix: 'b', size: 1000, count: 2 }, grant, lim)).value).toEqual(['ok', 'ok']);
  });

  it('refuses writes past grantWriteBytes across calls of the same grant, but not under another grant', async () => {
    const dir = fresh('per-grant');
    const grant = await grantOf([], [`write:${dir}`]);
    const lim = limits({ maxWriteBytes: 1000, writeBytes: 2000, grantWriteBytes: 4500 });
    for (const prefix of ['a', 'b']) {
      expect((await sandbox.run(tool, 'fill', { dir, prefix, size: 1000, count: 2 }, grant, lim)).value).toEqual(['ok', 'ok']);
    }
    const third = (await sandbox.run(tool, 'fill', { dir, prefix: 'c', size: 1000, count: 1 }, grant, lim)).value as string[];
    expect(third[0]).toMatch(/^QUOTA_EXCEEDED: writeFile .*c0: .*grantWriteBytes/);
    expect(existsSync(join(dir, 'c0'))).toBe(false);
    const other = await grantOf([], [`write:${dir}`]);
    expect((await sandbox.run(tool, 'fill', { dir, prefix: 'd', size: 1000, count: 1 }, other, lim)).value).toEqual(['ok']);
  });

  it('is on by default: one call cannot write more than 64 MiB', async () => {
    expect(DEFAULT_LIMITS.writeBytes).toBe(64 * 1024 * 1024);
    const dir = fresh('default');
    const grant = await grantOf([], [`write:${dir}`]);
    const size = DEFAULT_LIMITS.maxWriteBytes;
    const count = Math.floor(DEFAULT_LIMITS.writeBytes / size) + 1;
    const lim = limits({ wallMs: 60_000, cpuMs: 10_000 });
    const out = (await sandbox.run(tool, 'fill', { dir, prefix: 'f', size, count }, grant, lim)).value as string[];
    expect(out.filter((o) => o === 'ok').length).toBe(count - 1);
    expect(out.at(-1)).toMatch(/^QUOTA_EXCEEDED/);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
