/**
 * End to end: a tools/call whose arguments hold a long string (sent to the worker raw, runtime/call-args.ts)
 * reaches the tool exactly, and its audit record digests the arguments under the home's audit key, made
 * while the call runs: the HMAC of the rest's canonical JSON and the long string unescaped
 * (host/serve/audit-records.ts argsDigest).
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { EXAMPLES, startHost } from '../helpers/host.ts';
import type { HostHandle } from '../helpers/host.ts';

let host: HostHandle;

beforeAll(async () => {
  host = await startHost({ args: ['--dev', join(EXAMPLES, 'text-tools')] });
});

afterAll(async () => {
  await host?.close();
});

function callRecords(): { argsDigest: string; outcome: string }[] {
  return readFileSync(join(host.home, 'audit.log'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"type":"call"'))
    .map((l) => JSON.parse(l) as { argsDigest: string; outcome: string });
}

describe('tools/call with a long string argument', () => {
  it('hands the tool the exact text, and the audit record the digest of the arguments with the text unescaped', async () => {
    const text = '{"quote":"\\"","slash":"\\\\","nl":"\n","tab":"\t","ctl":"\u0001"} é€😀 '.repeat(400);
    const r = (await host.client.callTool({ name: 'text-tools__sha256', arguments: { text } })) as CallToolResult;
    expect(r.isError).toBeFalsy();
    const bytes = Buffer.from(text, 'utf8');
    expect(r.structuredContent).toEqual({ hex: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
    const key = Buffer.from(readFileSync(join(host.home, 'audit.key'), 'utf8').trim(), 'hex');
    const records = callRecords();
    expect(records.at(-1)).toMatchObject({ outcome: 'ok', argsDigest: `hmac-sha256:${createHmac('sha256', key).update(`{}\n4:text${text.length}:${text}`).digest('hex')}` });
  });
});
