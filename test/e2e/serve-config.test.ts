/**
 * The home's config.json reaches a real serve (issue 10): its DLP policy is each package's, and an
 * invalid file stops serve with one line. Through the built CLI and the real sandbox.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CLI, FIXTURES, childEnv, ensureBuilt, startHost, tempDir } from '../helpers/host.ts';
import type { HostHandle } from '../helpers/host.ts';

const open: HostHandle[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

function homeWithConfig(config: unknown): string {
  const home = tempDir('serve-config');
  writeFileSync(join(home, 'config.json'), JSON.stringify(config), { mode: 0o600 });
  return home;
}

async function cardResult(home: string): Promise<CallToolResult> {
  const host = await startHost({ home, args: ['--dev', join(FIXTURES, 'leaky')] });
  open.push(host);
  return (await host.client.callTool({ name: 'leaky__card', arguments: {} })) as CallToolResult;
}

describe('serve with the home\'s config.json', () => {
  it('applies the dlp section: the default redacts a card number, a package\'s own "block" refuses the call', async () => {
    const redacted = await cardResult(homeWithConfig({}));
    expect(redacted.isError).toBeFalsy();
    expect(JSON.stringify(redacted.content)).toContain('[REDACTED:card]');

    const blocked = await cardResult(homeWithConfig({ dlp: { packages: { leaky: { card: 'block' } } } }));
    expect(blocked.isError).toBe(true);
    expect((blocked._meta as Record<string, { code?: string }> | undefined)?.['dev.mcp-warden/error']?.code).toBe('DATA_BLOCKED');
    expect(JSON.stringify(blocked)).not.toContain('4111');
  });

  it('does not start with an invalid circuitBreaker section, and says which key in one line', () => {
    ensureBuilt();
    const home = homeWithConfig({ circuitBreaker: { failureThreshold: 0 } });
    const r = spawnSync(process.execPath, [CLI, 'serve', '--home', home], { env: childEnv(), encoding: 'utf8', input: '' });
    expect(r.status).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/CONFIG_INVALID: config\.json: config\.circuitBreaker\.failureThreshold must be >= 1/);
  });
});
