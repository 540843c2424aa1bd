/**
 * Passphrase prompts on a real terminal (issue 8, item 28): keygen and sign run in a pseudo-terminal
 * (util-linux `script`), the test types at the prompts, and the screen the user would see is rebuilt
 * from the terminal output (carriage returns, cursor moves and erasures applied): the prompt must still be
 * on it, and the passphrase must never be.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../helpers/host.ts';
import { tempDir } from '../../helpers/tool-package.ts';

const SECRET = 'correct-horse-battery';

/** The lines a terminal shows after `raw`: enough of ECMA-48 for readline's output. */
function renderScreen(raw: string): string[] {
  const lines: string[][] = [[]];
  let row = 0;
  let col = 0;
  const line = (): string[] => (lines[row] ??= []);
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string;
    if (ch === '\x1b') {
      // eslint-disable-next-line no-control-regex -- parsing terminal escape sequences is the point
      const m = /^\x1b\[(\??[0-9;]*)([A-Za-z])/.exec(raw.slice(i));
      if (!m) continue;
      i += m[0].length - 1;
      const n = Number((m[1] ?? '').replace('?', '') || '0');
      switch (m[2]) {
        case 'G':
          col = Math.max(0, (n || 1) - 1);
          break;
        case 'C':
          col += n || 1;
          break;
        case 'D':
          col = Math.max(0, col - (n || 1));
          break;
        case 'A':
          row = Math.max(0, row - (n || 1));
          break;
        case 'B':
          row += n || 1;
          break;
        case 'K':
          if (n === 2) lines[row] = [];
          else line().length = Math.min(line().length, col);
          break;
        case 'J':
          line().length = Math.min(line().length, col);
          lines.length = row + 1;
          break;
      }
      continue;
    }
    if (ch === '\r') col = 0;
    else if (ch === '\n') {
      row++;
      col = 0;
    } else if (ch === '\b') col = Math.max(0, col - 1);
    else if (ch >= ' ') {
      const l = line();
      while (l.length < col) l.push(' ');
      l[col++] = ch;
    }
  }
  return lines.map((l) => l.join('').trimEnd());
}

/** Runs the CLI in a pseudo-terminal; answers each prompt matching `answers` in turn. */
function inTerminal(args: string[], answers: { when: RegExp; type: string }[], cwd: string): Promise<{ status: number; screen: string[]; raw: string }> {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, join(ROOT, 'host', 'cli.ts'), ...args].map(quote).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let raw = '';
  let next = 0;
  let answeredAt = 0;
  child.stdout.on('data', (c: Buffer) => {
    raw += c.toString('utf8');
    const pending = answers[next];
    // Answer a prompt once it appears in what was written since the last answer.
    if (pending && pending.when.test(raw.slice(answeredAt))) {
      answeredAt = raw.length;
      next++;
      child.stdin.write(`${pending.type}\r`);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status: status ?? -1, screen: renderScreen(raw), raw }));
  });
}

describe('passphrase prompts in a terminal', () => {
  it('keygen: both prompts stay visible, the passphrase is never shown, the key is encrypted', async () => {
    const dir = tempDir('mcpw-tty-');
    const r = await inTerminal(['keygen', '--out', 'k'], [
      { when: /Passphrase for the private key/, type: SECRET },
      { when: /Repeat the passphrase/, type: SECRET },
    ], dir);
    expect(r.status).toBe(0);
    expect(r.screen.some((l) => l.includes('Passphrase for the private key (empty for none):'))).toBe(true);
    expect(r.screen.some((l) => l.includes('Repeat the passphrase:'))).toBe(true);
    expect(r.raw).not.toContain(SECRET);
    expect(readFileSync(join(dir, 'k.key'), 'utf8')).toContain('ENCRYPTED PRIVATE KEY');

    // sign asks once for the passphrase of the encrypted key.
    const { writeToolPackage } = await import('../../helpers/tool-package.ts');
    const { packToBuffer } = await import('../../../host/pack/pack.ts');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'p.tgz'), (await packToBuffer(writeToolPackage(join(dir, 'pkg'), '@acme/echo', '1.0.0'))).data);
    const s = await inTerminal(['sign', 'p.tgz', '--key', 'k.key'], [{ when: /Passphrase for the private key/, type: SECRET }], dir);
    expect(s.status).toBe(0);
    expect(s.screen.some((l) => l.includes('Passphrase for the private key'))).toBe(true);
    expect(s.raw).not.toContain(SECRET);
    expect(readFileSync(join(dir, 'p.tgz.sigstore.json'), 'utf8')).toContain('dsseEnvelope');
  }, 60_000);
});
