/**
 * Large results through the built CLI and the real sandbox: their text is serialized on the host's JSON
 * thread while DLP scans it (host/serve/reply-json.ts), and that changes nothing the client gets. Several
 * calls in a row, so that some go while the thread starts and later ones through it (which ones is the
 * machine's business: every call must be right either way).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { FIXTURES, startHost, tempDir } from '../helpers/host.ts';
import type { HostHandle } from '../helpers/host.ts';

// The fixture's text (test/fixtures/packages/leaky/index.js).
const LARGE = 'a "quoted" \\path\\ \n\t\u0001 é € 😀 </script> \u2028 '.repeat(8000);
const CALLS = 6;

let host: HostHandle;
let blocking: HostHandle;
beforeAll(async () => {
  host = await startHost({ args: ['--dev', join(FIXTURES, 'leaky')] });
  const home = tempDir('large-results');
  // Five blocks in ten minutes would quarantine the package (docs/config.md): the threshold is set above the calls here.
  writeFileSync(join(home, 'config.json'), JSON.stringify({ dlp: { packages: { leaky: { card: 'block' } } }, quarantine: { dlpBlocks: 100 } }), { mode: 0o600 });
  blocking = await startHost({ home, args: ['--dev', join(FIXTURES, 'leaky')] });
});
afterAll(async () => {
  await host?.close();
  await blocking?.close();
});

const large = async (h: HostHandle, card: boolean): Promise<CallToolResult> => (await h.client.callTool({ name: 'leaky__large', arguments: { card } })) as CallToolResult;
const textOf = (r: CallToolResult): string => (r.content[0] as { text: string }).text;

describe('large results', () => {
  it('arrive exactly as the tool returned them, call after call', async () => {
    for (let i = 0; i < CALLS; i++) {
      const r = await large(host, false);
      expect(r.isError).toBeFalsy();
      expect(textOf(r) === LARGE).toBe(true);
    }
  });

  it('are redacted by DLP as a small one is, call after call', async () => {
    for (let i = 0; i < CALLS; i++) {
      const r = await large(host, true);
      expect(r.isError).toBeFalsy();
      expect(textOf(r) === `${LARGE} pay with [REDACTED:card]`).toBe(true);
      expect(JSON.stringify(r)).not.toContain('4111');
    }
  });

  it("are refused whole under a package's block action, call after call", async () => {
    for (let i = 0; i < CALLS; i++) {
      const r = await large(blocking, true);
      expect(r.isError).toBe(true);
      expect((r._meta as Record<string, { code?: string }> | undefined)?.['dev.mcp-warden/error']?.code).toBe('DATA_BLOCKED');
      expect(JSON.stringify(r)).not.toContain('4111');
      // The next clean one still arrives whole.
      expect(textOf(await large(blocking, false)) === LARGE).toBe(true);
    }
  });
});
