/**
 * Consent at first use (issue 11, "What it must show" 5), through the built CLI and the real sandbox, with
 * real servers on 127.0.0.1: an installed package whose network rule and write directory are marked
 * `"consent": "ask"` (recorded in its sealed lock entry, not granted).
 *   - 2025-11-25, the SDK client answering the elicitation: once (asked again at the next call), always
 *     (stored in the lock: a new serve does not ask), never (denied with CONSENT_REFUSED, not asked again);
 *     a file write asked the same way;
 *   - 2026-07-28: an input_required result the client's driver answers; the call runs again with the answer;
 *   - without elicitation support (both revisions): CONSENT_REQUIRED naming the CLI command, which then
 *     makes the call pass.
 * No assertion depends on timing: the lock is read after the call that wrote it returned.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as LegacyStdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { CLI, ROOT, childEnv, ensureBuilt, tempDir } from '../helpers/host.ts';
import { startLoopback } from '../helpers/loopback.ts';
import type { Loopback } from '../helpers/loopback.ts';
import { digestTree, writeSealedLock } from '../helpers/installed.ts';

const NAME = 'asker';
const DIR = `packages/${NAME}@1.0.0`;
const MODERN = '2026-07-28';

let server: Loopback;
let hits = 0;
let origin = '';
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  ensureBuilt();
  server = await startLoopback((req, res) => {
    hits++;
    req.resume();
    res.end('weather: sunny');
  });
  origin = server.origin;
});

afterAll(async () => {
  await Promise.allSettled(closers.map((c) => c()));
  await server.close();
});

/** An installed package with an asked network rule and an asked write directory (a bound slot). */
function installAsker(limits: Record<string, number> = {}): { home: string; notes: string } {
  const home = tempDir('ask-home');
  const notes = realpathSync(tempDir('ask-notes'));
  const dir = join(home, DIR);
  mkdirSync(dir, { recursive: true });
  const tools = [
    { name: 'forecast', description: 'Fetches the forecast.', inputSchema: { type: 'object' } },
    { name: 'note', description: 'Writes a note.', inputSchema: { type: 'object' } },
  ];
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: NAME,
      version: '1.0.0',
      mcpWarden: {
        entry: 'index.js',
        tools,
        capabilities: { net: [{ rule: origin, consent: 'ask' }], fs: [{ slot: 'notes', access: 'write', consent: 'ask' }] },
        limits,
      },
    }),
  );
  writeFileSync(
    join(dir, 'index.js'),
    `export default {
  async forecast() { return (await fetch('${origin}/forecast?city=paris')).text(); },
  async note(_args, ctx) { await ctx.fs.writeFile(ctx.paths.notes + '/note.txt', 'remember'); return 'noted'; },
};
`,
  );
  const entry = {
    version: '1.0.0',
    integrity: 'sha512-test',
    dir: DIR,
    grant: { net: [], fs: [], slots: { notes } },
    asks: { net: [origin], fs: [`write:${notes}`] },
    installedAt: new Date().toISOString(),
    files: digestTree(dir),
  };
  writeSealedLock(home, { [NAME]: entry });
  return { home, notes };
}

type Decision = 'once' | 'always' | 'never' | 'decline';

function reply(d: Decision): { action: 'accept' | 'decline'; content?: { decision: string } } {
  return d === 'decline' ? { action: 'decline' } : { action: 'accept', content: { decision: d } };
}

/** A 2025-11-25 client; with `answers`, it declares elicitation and answers from them in order. */
async function legacyClient(home: string, answers?: Decision[], asked: string[] = [], before?: () => Promise<void>, extraArgs: readonly string[] = []): Promise<LegacyClient> {
  const client = new LegacyClient({ name: 'legacy-test', version: '1.0.0' }, { capabilities: answers ? { elicitation: { form: {} } } : {} });
  if (answers) {
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      await before?.();
      const next = answers.shift();
      if (next === undefined) throw new Error('asked more often than expected');
      return reply(next);
    });
  }
  await client.connect(new LegacyStdio({ command: process.execPath, args: [CLI, 'serve', '--home', home, '--workers', '1', ...extraArgs], env: childEnv(), stderr: 'pipe', cwd: ROOT }));
  closers.push(() => client.close());
  return client;
}

async function modernClient(home: string, answers?: Decision[], asked: string[] = []): Promise<Client> {
  const client = new Client({ name: 'modern-test', version: '1.0.0' }, { capabilities: answers ? { elicitation: { form: {} } } : {}, versionNegotiation: { mode: { pin: MODERN } } });
  if (answers) {
    client.setRequestHandler('elicitation/create', (request) => {
      asked.push(request.params.message);
      const next = answers.shift();
      if (next === undefined) throw new Error('asked more often than expected');
      return reply(next);
    });
  }
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, 'serve', '--home', home, '--workers', '1'], env: childEnv(), stderr: 'pipe', cwd: ROOT }));
  closers.push(() => client.close());
  return client;
}

interface Outcome {
  readonly text: string;
  readonly code?: string;
}

async function call(client: LegacyClient | Client, tool: string): Promise<Outcome> {
  const r = (await client.callTool({ name: `${NAME}__${tool}`, arguments: {} })) as { content: { type: string; text?: string }[]; _meta?: Record<string, unknown> };
  const text = r.content.map((c) => c.text ?? '').join('');
  const code = (r._meta?.['dev.mcp-warden/error'] as { code?: string } | undefined)?.code;
  return code ? { text, code } : { text };
}

function lockEntry(home: string): { grant: { net: string[]; fs: string[] }; refusals?: { net: string[]; fs: string[] } } {
  type Entry = ReturnType<typeof lockEntry>;
  const entry = (JSON.parse(readFileSync(join(home, 'lock.json'), 'utf8')) as { packages: Record<string, Entry> }).packages[NAME];
  if (entry === undefined) throw new Error('not in the lock');
  return entry;
}

describe('a capability asked at first use, answered through a 2025-11-25 elicitation', () => {
  it('"once" allows this call only: the next call asks again; "always" is stored in the sealed lock, and a new serve does not ask', async () => {
    const { home } = installAsker();
    const asked: string[] = [];
    const answers: Decision[] = ['once', 'always'];
    const client = await legacyClient(home, answers, asked);
    const before = hits;

    expect(await call(client, 'forecast')).toEqual({ text: 'weather: sunny' });
    expect(asked).toHaveLength(1);
    // The question says who, which tool, what exactly and under which rule.
    expect(asked[0]).toContain(`${NAME}@1.0.0 (tool "forecast")`);
    expect(asked[0]).toContain(`GET ${origin}/forecast?city=paris`);
    expect(asked[0]).toContain(`network rule "${origin}"`);
    expect(lockEntry(home).grant.net).toEqual([]);

    // "once" was for that call: asked again, answered "always".
    expect(await call(client, 'forecast')).toEqual({ text: 'weather: sunny' });
    expect(asked).toHaveLength(2);
    expect(lockEntry(home).grant.net).toEqual([origin]);
    // Remembered by this serve: not asked a third time.
    expect(await call(client, 'forecast')).toEqual({ text: 'weather: sunny' });
    expect(asked).toHaveLength(2);
    expect(hits - before).toBe(3);

    // A new serve reads it from the sealed lock (this client answers nothing: a question would fail the test).
    const fresh = await legacyClient(home, [], []);
    expect(await call(fresh, 'forecast')).toEqual({ text: 'weather: sunny' });
  });

  it('"never" denies the call with CONSENT_REFUSED, is stored, and is not asked again (nor by a new serve)', async () => {
    const { home } = installAsker();
    const asked: string[] = [];
    const client = await legacyClient(home, ['never'], asked);
    const before = hits;

    const first = await call(client, 'forecast');
    expect(first.code).toBe('CONSENT_REFUSED');
    expect(first.text).toContain(`mcp-warden grant ${NAME} --forget net:${origin}`);
    expect(asked).toHaveLength(1);
    expect(lockEntry(home).refusals).toEqual({ net: [origin], fs: [] });

    expect((await call(client, 'forecast')).code).toBe('CONSENT_REFUSED');
    expect(asked).toHaveLength(1);
    const fresh = await legacyClient(home, [], []);
    expect((await call(fresh, 'forecast')).code).toBe('CONSENT_REFUSED');
    // Nothing reached the server.
    expect(hits - before).toBe(0);
  });

  it('asks before a write in an asked directory; a declined question denies that call only (CONSENT_DENIED)', async () => {
    const { home, notes } = installAsker();
    const asked: string[] = [];
    const client = await legacyClient(home, ['decline', 'once'], asked);

    expect((await call(client, 'note')).code).toBe('CONSENT_DENIED');
    expect(existsSync(join(notes, 'note.txt'))).toBe(false);
    expect(asked[0]).toContain(`write ${notes}/note.txt`);
    expect(asked[0]).toContain(`file rule "write:${notes}"`);

    expect(await call(client, 'note')).toEqual({ text: 'noted' });
    expect(readFileSync(join(notes, 'note.txt'), 'utf8')).toBe('remember');
    expect(asked).toHaveLength(2);
    expect(lockEntry(home).grant.fs).toEqual([]);
  });
});

describe('the wall-clock limit while the user answers', () => {
  it('does not count the time a question waits: an answer given after three times the call\'s wallMs still lets the call finish', async () => {
    const wallMs = 1500;
    const { home } = installAsker({ wallMs });
    // The user takes far longer than the call may run (a timer, not an assertion on elapsed time).
    const slowUser = () => new Promise<void>((r) => setTimeout(r, wallMs * 3));
    const client = await legacyClient(home, ['once'], [], slowUser);
    expect(await call(client, 'forecast')).toEqual({ text: 'weather: sunny' });
  });
});

describe('a capability asked at first use on 2026-07-28', () => {
  it('is asked with an input_required result; the call runs again with the answer ("once", then "always" stored)', async () => {
    const { home } = installAsker();
    const asked: string[] = [];
    const client = await modernClient(home, ['once', 'always'], asked);
    const before = hits;

    expect(await call(client, 'forecast')).toEqual({ text: 'weather: sunny' });
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain(`GET ${origin}/forecast?city=paris`);
    // The first run ended at the question, before anything was sent; the re-run sent the request once.
    expect(hits - before).toBe(1);

    expect(await call(client, 'forecast')).toEqual({ text: 'weather: sunny' });
    expect(asked).toHaveLength(2);
    expect(lockEntry(home).grant.net).toEqual([origin]);
    expect(await call(client, 'forecast')).toEqual({ text: 'weather: sunny' });
    expect(asked).toHaveLength(2);
  });
});

describe('a capability asked at first use, with a client that cannot ask', () => {
  it('is denied with CONSENT_REQUIRED naming the command, and passes once `grant --allow` granted it (both revisions)', async () => {
    const { home } = installAsker();
    const command = `mcp-warden grant ${NAME} --allow net:${origin}`;
    // `list` shows what the package asks at first use, as the consent screen did.
    const listed = spawnSync(process.execPath, [CLI, 'list', '--home', home], { env: childEnv(), encoding: 'utf8', input: '' });
    expect(listed.stdout).toContain('Asked at first use');
    expect(listed.stdout).toContain(`network  ${origin}`);
    const legacy = await legacyClient(home);
    const modern = await modernClient(home);
    const before = hits;

    for (const client of [legacy, modern]) {
      const denied = await call(client, 'forecast');
      expect(denied.code).toBe('CONSENT_REQUIRED');
      expect(denied.text).toContain(command);
    }
    expect(hits - before).toBe(0);

    const granted = spawnSync(process.execPath, [CLI, 'grant', NAME, '--allow', `net:${origin}`, '--home', home], { env: childEnv(), encoding: 'utf8', input: '' });
    expect(granted.stderr).toBe('');
    expect(granted.status).toBe(0);
    expect(lockEntry(home).grant.net).toEqual([origin]);

    const after = await legacyClient(home);
    expect(await call(after, 'forecast')).toEqual({ text: 'weather: sunny' });
  });
});

describe('a capability asked at first use, under an organisation policy', () => {
  it('beyond the policy\'s network ceiling: refused without asking the user, and `grant --allow` refuses it with POLICY_CAPABILITY_DENIED', async () => {
    const { home } = installAsker();
    const policy = join(tempDir('ask-policy'), 'policy.json');
    writeFileSync(policy, JSON.stringify({ capabilities: { net: ['*.corp.example'] } }), { mode: 0o600 });
    const asked: string[] = [];
    const client = await legacyClient(home, ['always'], asked, undefined, ['--policy', policy]);
    const before = hits;

    const refused = await call(client, 'forecast');
    expect(refused.code).toBe('CONSENT_REFUSED');
    expect(refused.text).toContain('POLICY_CAPABILITY_DENIED');
    expect(asked).toEqual([]);
    expect(hits - before).toBe(0);
    expect(lockEntry(home).grant.net).toEqual([]);

    const granted = spawnSync(process.execPath, [CLI, 'grant', NAME, '--allow', `net:${origin}`, '--policy', policy, '--home', home], { env: childEnv(), encoding: 'utf8', input: '' });
    expect(granted.status).not.toBe(0);
    expect(granted.stderr).toContain('POLICY_CAPABILITY_DENIED');
    expect(lockEntry(home).grant.net).toEqual([]);
  });
});
