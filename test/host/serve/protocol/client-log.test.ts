import { describe, expect, it } from 'vitest';
import { createCallLog, toLoggingLevel } from '../../../../host/serve/protocol/client-log.ts';
import type { LoggingLevel, LoggingMessageParams } from '../../../../host/serve/protocol/client-log.ts';
import { createRedactor } from '../../../../host/serve/redact.ts';

function sink(threshold: LoggingLevel | undefined, extra: { now?: () => number; maxLines?: number } = {}) {
  const sent: LoggingMessageParams[] = [];
  const log = createCallLog({ threshold, redact: createRedactor({ env: { SECRET_TOKEN: 'hunter2-very-secret' }, paths: ['/home/alice/.mcp-warden'] }), send: (p) => sent.push(p), logger: 'good.x/tool', now: extra.now ?? (() => 0), ...(extra.maxLines !== undefined ? { maxLines: extra.maxLines } : {}) });
  return { log, sent };
}

describe('toLoggingLevel', () => {
  it.each([
    ['warn', 'warning'],
    ['warning', 'warning'],
    ['emergency', 'emergency'],
    ['debug', 'debug'],
    ['bogus', 'info'],
  ])('maps %s to %s', (from, to) => {
    expect(toLoggingLevel(from)).toBe(to);
  });
});

describe('createCallLog', () => {
  it('sends lines at or above the threshold and drops the ones below', () => {
    const { log, sent } = sink('warning');
    log.log({ level: 'info', message: 'quiet' });
    log.log({ level: 'warn', message: 'loud' });
    log.log({ level: 'critical', message: 'louder', data: { n: 1 } });
    expect(sent).toEqual([
      { level: 'warning', logger: 'good.x/tool', data: 'loud' },
      { level: 'critical', logger: 'good.x/tool', data: { message: 'louder', data: { n: 1 } } },
    ]);
  });

  it('sends nothing when the client asked for no level (a 2026-07-28 request without logLevel)', () => {
    const { log, sent } = sink(undefined);
    for (let i = 0; i < 100; i++) log.log({ level: 'emergency', message: 'x' });
    log.finish();
    expect(sent).toEqual([]);
  });

  it('redacts host paths and secrets from the message and the data', () => {
    const { log, sent } = sink('debug');
    log.log({ level: 'info', message: 'token hunter2-very-secret in /home/alice/.mcp-warden/lock.json', data: { where: '/home/alice/.mcp-warden/keys' } });
    const text = JSON.stringify(sent);
    expect(text).not.toContain('hunter2-very-secret');
    expect(text).not.toContain('/home/alice/.mcp-warden');
  });

  it('bounds a long message and replaces oversized data by a note of its size', () => {
    const { log, sent } = sink('debug');
    log.log({ level: 'info', message: 'm'.repeat(100_000), data: 'd'.repeat(100_000) });
    const first = sent[0]?.data as { message: string; data: string };
    expect(first.message.length).toBeLessThan(1100);
    expect(first.data).toMatch(/^\[data omitted: 100002 bytes/);
  });

  it('sends at most 50 lines per call, then one line counting what was dropped', () => {
    let t = 0;
    // Time advances a second per line: only the per-call cap can fire.
    const { log, sent } = sink('debug', { now: () => (t += 1000) });
    for (let i = 0; i < 80; i++) log.log({ level: 'info', message: `line ${i}` });
    log.finish();
    expect(sent).toHaveLength(51);
    expect(sent[50]).toMatchObject({ level: 'warning', data: expect.stringMatching(/^30 log lines dropped/) });
  });

  it('paces a burst with a token bucket: a burst of 20 lines at one instant, the rest dropped', () => {
    const { log, sent } = sink('debug', { now: () => 0 });
    for (let i = 0; i < 30; i++) log.log({ level: 'info', message: `line ${i}` });
    log.finish();
    expect(sent).toHaveLength(21);
    expect(sent[20]?.data).toMatch(/^10 log lines dropped/);
  });

  it('reports the dropped lines at the client\'s level when it asked for more than warnings', () => {
    const { log, sent } = sink('critical', { now: () => 0 });
    for (let i = 0; i < 30; i++) log.log({ level: 'emergency', message: `line ${i}` });
    log.finish();
    expect(sent.at(-1)).toMatchObject({ level: 'critical', data: expect.stringMatching(/^10 log lines dropped/) });
  });

  it('sends nothing after the call finished', () => {
    const { log, sent } = sink('debug');
    log.finish();
    log.log({ level: 'error', message: 'late' });
    expect(sent).toEqual([]);
  });
});
