/** The host's log file is the user's alone, and never silently goes nowhere (issue 8, items 25 and 30). */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../../helpers/codes.ts';
import { createLogger } from '../../../host/serve/logger.ts';
import { tempDir } from '../../helpers/host.ts';

describe('createLogger with a log file', () => {
  it('creates the file 0600', () => {
    const file = join(tempDir('log'), 'host.log');
    createLogger({ file }).info('hello');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain('"msg":"hello"');
  });

  it('creates a missing directory 0700 and logs into it', () => {
    const dir = join(tempDir('log'), 'a', 'b');
    createLogger({ file: join(dir, 'host.log') }).warn('kept');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(dir, 'host.log'), 'utf8')).toContain('"msg":"kept"');
  });

  it('tightens an existing world-readable file to 0600', () => {
    const file = join(tempDir('log'), 'host.log');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    createLogger({ file }).info('x');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses a path it cannot open with LOG_FILE_UNUSABLE', () => {
    const dir = tempDir('log');
    mkdirSync(join(dir, 'is-a-dir'));
    expect(codeOf(() => createLogger({ file: join(dir, 'is-a-dir') }))).toBe('LOG_FILE_UNUSABLE');
    writeFileSync(join(dir, 'file'), '');
    expect(codeOf(() => createLogger({ file: join(dir, 'file', 'under-a-file.log') }))).toBe('LOG_FILE_UNUSABLE');
  });

  it('refuses an unknown level with USAGE', () => {
    expect(codeOf(() => createLogger({ level: 'bogus' }))).toBe('USAGE');
  });
});
