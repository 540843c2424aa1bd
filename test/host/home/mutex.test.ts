import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { homeLayout } from '../../../host/home/home.ts';
import { MUTEX_FILE, withHomeMutex } from '../../../host/home/mutex.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';
import { tempDir } from '../../helpers/tool-package.ts';

describe('withHomeMutex', () => {
  it('refuses while a live process holds the home (HOME_BUSY)', async () => {
    const home = homeLayout(tempDir('mcpw-mutex-'));
    writeFileSync(join(home.dir, MUTEX_FILE), `${process.pid}\n`);
    expect(await asyncCodeOf(() => withHomeMutex(home, async () => 1))).toBe('HOME_BUSY');
    expect(readFileSync(join(home.dir, MUTEX_FILE), 'utf8')).toBe(`${process.pid}\n`);
  });

  it('takes over a lock left by a dead process, and releases it', async () => {
    const home = homeLayout(tempDir('mcpw-mutex-'));
    writeFileSync(join(home.dir, MUTEX_FILE), '2147483646\n');
    expect(await withHomeMutex(home, async () => 'ran')).toBe('ran');
    expect(await withHomeMutex(home, async () => 'again')).toBe('again');
  });
});
