/**
 * serve keeps seeing installs after its home was deleted and created again (a watch on the old
 * directory's inode would never fire again).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { cliOk } from '../../helpers/cli.ts';
import { EXAMPLES, startHost, tempDir } from '../../helpers/host.ts';

describe('serve watching its home', () => {
  it('reloads installs into a home that was deleted and re-created', async () => {
    const work = tempDir('watch');
    const home = join(work, 'home');
    await cliOk(['keygen', '--out', 'k'], { cwd: work });
    const packed = JSON.parse((await cliOk(['pack', join(EXAMPLES, 'text-tools'), '--out', 'dist', '--json'], { cwd: work })).stdout) as { file: string };
    await cliOk(['sign', packed.file, '--key', 'k.key'], { cwd: work });
    await cliOk(['trust', 'add-key', 'k.pub', '--name', 'k', '--home', home], { cwd: work });
    const h = await startHost({ home });
    try {
      expect((await h.client.listTools()).tools).toEqual([]);
      rmSync(home, { recursive: true, force: true });
      // Resolves once a list change shows the tool (each reload announces its own change).
      const served = new Promise<void>((resolve) => {
        h.client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
          if ((await h.client.listTools()).tools.some((t) => t.name === 'text-tools__sha256')) resolve();
        });
      });
      await cliOk(['trust', 'add-key', 'k.pub', '--name', 'k', '--home', home], { cwd: work });
      await cliOk(['install', packed.file, '--yes', '--home', home], { cwd: work });
      await served;
      expect((await h.client.listTools()).tools.map((t) => t.name)).toContain('text-tools__sha256');
    } finally {
      await h.close();
    }
  }, 60_000);
});
