/**
 * Asked rules where the host performs a tool's I/O (runtime/host-calls.ts), on real files: the operation
 * waits for the host's answer, runs on the grant widened by that one rule, and consent adds a place to
 * write, never more bytes (the call's write quota is shared with its granted paths).
 */
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAskGrant } from '../../runtime/capabilities/ask.ts';
import { parseFsGrant } from '../../runtime/capabilities/fs.ts';
import { parseNetGrant } from '../../runtime/capabilities/net.ts';
import { fileAccessFor, runHostCall } from '../../runtime/host-calls.ts';
import type { HostCallContext } from '../../runtime/host-calls.ts';
import type { ConsentDecision, ConsentHook, ConsentRequest } from '../../runtime/api.ts';
import type { CapabilityEvent } from '../../runtime/types.ts';
import { DEFAULT_LIMITS } from '../../runtime/types.ts';
import { tempDir } from '../helpers/tool-package.ts';

function setup(answer: ConsentDecision, limits = DEFAULT_LIMITS) {
  const root = realpathSync(tempDir('mcpw-hostcall-ask-'));
  const [granted, asked, other] = ['granted', 'asked', 'other'].map((d) => join(root, d)) as [string, string, string];
  for (const d of [granted, asked, other]) mkdirSync(d);
  const questions: ConsentRequest[] = [];
  const events: CapabilityEvent[] = [];
  const extended: number[] = [];
  const consent: ConsentHook = {
    timeoutMs: 60_000,
    ask: async (request) => {
      questions.push(request);
      return answer;
    },
  };
  const ctx: HostCallContext = {
    grant: { net: parseNetGrant([]), fs: parseFsGrant([`write:${granted}`]), ask: parseAskGrant({ net: ['api.example.com'], fs: [`write:${asked}`] }, { net: [], fs: [] }, { net: [], fs: [] }) },
    limits,
    signal: new AbortController().signal,
    onEvent: (e) => events.push(e),
    consent,
    extendDeadline: (ms) => extended.push(ms),
  };
  let files: ReturnType<typeof fileAccessFor> | null = null;
  const call = (op: string, args: object, body?: string) => runHostCall(ctx, () => (files ??= fileAccessFor(ctx)), op, JSON.stringify(args), body === undefined ? undefined : Buffer.from(body));
  return { granted, asked, other, questions, events, extended, call };
}

describe('a file operation under an asked rule', () => {
  it('asks with the operation and the rule, stops the wall clock while it waits, and writes once allowed', async () => {
    const t = setup({ allowed: true });
    await t.call('fs.writeFile', { path: join(t.asked, 'a.txt') }, 'hello');
    expect(readFileSync(join(t.asked, 'a.txt'), 'utf8')).toBe('hello');
    expect(t.questions).toEqual([{ kind: 'fs', rule: `write:${t.asked}`, op: `write ${join(t.asked, 'a.txt')}`, refused: false }]);
    // Moved forward by the longest wait, then back by what was not used: the net move is the wait itself.
    expect(t.extended).toHaveLength(2);
    expect(t.extended[0]).toBeGreaterThan(60_000);
    expect((t.extended[0] ?? 0) + (t.extended[1] ?? 0)).toBeGreaterThanOrEqual(0);
    // Granted paths and paths no rule covers are not asked about.
    await t.call('fs.writeFile', { path: join(t.granted, 'b.txt') }, 'x');
    await expect(t.call('fs.writeFile', { path: join(t.other, 'c.txt') }, 'x')).rejects.toMatchObject({ code: 'CAPABILITY_DENIED' });
    expect(t.questions).toHaveLength(1);
  });

  it('refuses with the consent code in the message and in the audit event, touching nothing', async () => {
    const t = setup({ allowed: false, code: 'CONSENT_REFUSED', message: 'the user refused it' });
    await expect(t.call('fs.writeFile', { path: join(t.asked, 'a.txt') }, 'x')).rejects.toMatchObject({ code: 'CAPABILITY_DENIED', message: expect.stringContaining('(CONSENT_REFUSED): the user refused it') });
    expect(t.events).toContainEqual({ kind: 'fs', op: 'writeFile', target: join(t.asked, 'a.txt'), allowed: false, code: 'CONSENT_REFUSED' });
    await expect(t.call('fs.stat', { path: join(t.asked, 'a.txt') }, undefined)).rejects.toMatchObject({ code: 'CAPABILITY_DENIED' });
  });

  it('shares the call\'s write quota with the granted paths: consent adds a place, not bytes', async () => {
    const t = setup({ allowed: true }, { ...DEFAULT_LIMITS, writeBytes: 10 });
    await t.call('fs.writeFile', { path: join(t.granted, 'a.txt') }, '12345678');
    await expect(t.call('fs.writeFile', { path: join(t.asked, 'b.txt') }, '12345678')).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
  });
});

describe('a fetch under an asked rule', () => {
  it('is refused before anything is sent when the answer is no', async () => {
    const t = setup({ allowed: false, code: 'CONSENT_REQUIRED', message: 'run mcp-warden grant w --allow net:api.example.com' });
    await expect(t.call('fetch', { url: 'https://api.example.com/v1', method: 'GET', headers: [] })).rejects.toMatchObject({ code: 'CAPABILITY_DENIED', message: expect.stringContaining('mcp-warden grant w --allow net:api.example.com') });
    expect(t.questions).toEqual([{ kind: 'net', rule: 'api.example.com', op: 'GET https://api.example.com/v1', refused: false }]);
    expect(t.events).toEqual([{ kind: 'net', op: 'GET', target: 'https://api.example.com:443', allowed: false, code: 'CONSENT_REQUIRED' }]);
  });
});
