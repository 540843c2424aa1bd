/**
 * Quarantine end to end (issue 11, point 3): a package that keeps hitting capability denials is taken out
 * of service; the client is told (notifications/message, tools/list_changed) over real stdio; its next
 * call fails with PACKAGE_QUARANTINED; `mcp-warden enable NAME`, run while serve runs, lifts it and the
 * client is told again. The built CLI, the real sandbox, no sleeps: every step waits for its notification.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LoggingMessageNotificationSchema, McpError, PromptListChangedNotificationSchema, ResourceListChangedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { cliOk } from '../helpers/cli.ts';
import { FIXTURES, ROOT, startHost, tempDir } from '../helpers/host.ts';
import type { HostHandle } from '../helpers/host.ts';

const open: HostHandle[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

function codeOf(r: CallToolResult): string | undefined {
  return (r._meta as Record<string, { code?: string }> | undefined)?.['dev.mcp-warden/error']?.code;
}

/** Resolves at the next tools/list_changed the client receives. */
function nextListChanged(client: Client): Promise<void> {
  return new Promise((resolve) => client.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()));
}

describe('quarantine', () => {
  it('trips after repeated capability denials, tells the client, refuses calls, and lifts with enable', async () => {
    const home = tempDir('quarantine');
    writeFileSync(join(home, 'config.json'), JSON.stringify({ quarantine: { capabilityDenials: 3 } }), { mode: 0o600 });
    const h = await startHost({ home, args: ['--dev', join(FIXTURES, 'hostile')] });
    open.push(h);
    const warning = new Promise<{ level: string; data: unknown }>((resolve) =>
      h.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        if (String(n.params.data).includes('quarantined')) resolve(n.params);
      }),
    );
    const removed = nextListChanged(h.client);
    expect((await h.client.listTools()).tools.map((t) => t.name)).toContain('hostile__exfiltrate');

    // Below the threshold: each call is refused its fetch, the package is still served.
    for (let i = 0; i < 2; i++) {
      const r = (await h.client.callTool({ name: 'hostile__exfiltrate', arguments: {} })) as CallToolResult;
      expect(r.isError).toBe(true);
      expect(codeOf(r)).not.toBe('PACKAGE_QUARANTINED');
    }
    expect((await h.client.listTools()).tools.map((t) => t.name)).toContain('hostile__exfiltrate');
    // The third denial trips it.
    await h.client.callTool({ name: 'hostile__exfiltrate', arguments: {} });
    const note = await warning;
    expect(note.level).toBe('warning');
    expect(String(note.data)).toMatch(/hostile was quarantined \(3 refused capability requests within 600 s\).*mcp-warden enable hostile/);
    await removed;
    expect((await h.client.listTools()).tools.map((t) => t.name).filter((n) => n.startsWith('hostile__'))).toEqual([]);

    const refused = (await h.client.callTool({ name: 'hostile__crash', arguments: {} })) as CallToolResult;
    expect(refused.isError).toBe(true);
    expect(codeOf(refused)).toBe('PACKAGE_QUARANTINED');
    expect(JSON.stringify(refused.content)).toContain('mcp-warden enable hostile');

    // Persisted in the home and on the audit trail.
    expect(JSON.parse(readFileSync(join(home, 'quarantine.json'), 'utf8')).packages.hostile).toMatchObject({ kind: 'capability', reason: '3 refused capability requests within 600 s' });
    expect(readFileSync(join(home, 'audit.log'), 'utf8')).toMatch(/"package":"hostile","event":"quarantined","code":"PACKAGE_QUARANTINED"/);
    expect(h.stderr()).toMatch(/package quarantined/);

    // enable, from the CLI while serve runs: the home watcher reloads, the client is told, the tool runs.
    const restored = nextListChanged(h.client);
    const r = await cliOk(['enable', 'hostile', '--home', home], { cwd: ROOT });
    expect(r.stdout).toBe('enabled hostile\n');
    await restored;
    expect((await h.client.listTools()).tools.map((t) => t.name)).toContain('hostile__exfiltrate');
    const runs = (await h.client.callTool({ name: 'hostile__crash', arguments: {} })) as CallToolResult;
    expect(codeOf(runs)).toBe('TOOL_THREW');
    expect(JSON.parse(readFileSync(join(home, 'quarantine.json'), 'utf8')).packages).toEqual({});
  });

  it('follows a quarantine written by another serve: resources and prompts leave the lists and are refused with the code', async () => {
    const home = tempDir('quarantine-other');
    const h = await startHost({ home, args: ['--dev', join(FIXTURES, 'content')] });
    open.push(h);
    const uri = 'mcp-warden://content-fixture/docs://readme';
    expect((await h.client.readResource({ uri })).contents).toHaveLength(1);
    const lists = Promise.all([
      nextListChanged(h.client),
      new Promise<void>((resolve) => h.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => resolve())),
      new Promise<void>((resolve) => h.client.setNotificationHandler(PromptListChangedNotificationSchema, () => resolve())),
    ]);
    // What another serve of the home writes when the package trips there (host/home/quarantine-file.ts).
    const entry = { since: new Date().toISOString(), reason: '5 calls ended by a limit within 600 s', kind: 'limit' };
    writeFileSync(join(home, 'quarantine.json'), JSON.stringify({ version: 1, packages: { 'content-fixture': entry } }), { mode: 0o600 });
    await lists;
    expect((await h.client.listResources()).resources).toEqual([]);
    expect((await h.client.listPrompts()).prompts).toEqual([]);
    const errorOf = async (p: Promise<unknown>): Promise<McpError> => {
      try {
        await p;
      } catch (e) {
        if (e instanceof McpError) return e;
        throw e;
      }
      throw new Error('expected a JSON-RPC error');
    };
    const read = await errorOf(h.client.readResource({ uri }));
    expect(read.data).toEqual({ code: 'PACKAGE_QUARANTINED', retryable: false });
    const prompt = await errorOf(h.client.getPrompt({ name: 'content-fixture__summarize', arguments: { text: 'x' } }));
    expect(prompt.data).toEqual({ code: 'PACKAGE_QUARANTINED', retryable: false });
    expect(codeOf((await h.client.callTool({ name: 'content-fixture__hello', arguments: {} })) as CallToolResult)).toBe('PACKAGE_QUARANTINED');
  });

  it('does not trip when the quarantine is disabled', async () => {
    const home = tempDir('quarantine-off');
    writeFileSync(join(home, 'config.json'), JSON.stringify({ quarantine: { enabled: false, capabilityDenials: 1 } }), { mode: 0o600 });
    const h = await startHost({ home, args: ['--dev', join(FIXTURES, 'hostile')] });
    open.push(h);
    for (let i = 0; i < 3; i++) expect(codeOf((await h.client.callTool({ name: 'hostile__exfiltrate', arguments: {} })) as CallToolResult)).not.toBe('PACKAGE_QUARANTINED');
    expect((await h.client.listTools()).tools.map((t) => t.name)).toContain('hostile__exfiltrate');
  });
});
