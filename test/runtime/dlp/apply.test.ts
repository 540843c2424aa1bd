import { describe, expect, it } from 'vitest';
import { DEFAULT_DLP_POLICY, dlpOutgoing, dlpText, dlpValue } from '../../../runtime/dlp/index.ts';
import type { DlpFinding, DlpPolicy } from '../../../runtime/dlp/index.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';

const CARD = '4111 1111 1111 1111';
const TOKEN = `ghp_${'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A'}`;
const policy = (over: Partial<DlpPolicy>): DlpPolicy => ({ ...DEFAULT_DLP_POLICY, ...over });

describe('dlpText', () => {
  it('redacts with a marker naming the detector, and reports the detector and count, never the text', () => {
    const out = dlpText(DEFAULT_DLP_POLICY, `a ${CARD} b ${CARD} c ${TOKEN}`, 'result');
    expect(out.value).toBe('a [REDACTED:card] b [REDACTED:card] c [REDACTED:github-token]');
    expect(out.findings).toEqual([
      { detector: 'card', action: 'redact', where: 'result', count: 2 },
      { detector: 'github-token', action: 'redact', where: 'result', count: 1 },
    ]);
    expect(JSON.stringify(out.findings)).not.toContain('4111');
    expect(out.blocked).toBeUndefined();
  });

  it('with log leaves the text as it is and reports the finding', () => {
    const out = dlpText(policy({ card: 'log' }), `a ${CARD}`, 'log');
    expect(out.value).toBe(`a ${CARD}`);
    expect(out.findings).toEqual([{ detector: 'card', action: 'log', where: 'log', count: 1 }]);
  });

  it('with block names the detector, and redacts too (for places that cannot refuse)', () => {
    const out = dlpText(policy({ card: 'block' }), `a ${CARD}`, 'error');
    expect(out.blocked).toBe('card');
    expect(out.value).toBe('a [REDACTED:card]');
  });

  it('with off does not look', () => {
    expect(dlpText(policy({ card: 'off' }), CARD, 'result')).toEqual({ value: CARD, findings: [] });
  });
});

describe('dlpValue', () => {
  it('with every detector off hands back the same value, untouched, finding nothing', () => {
    const allOff = Object.fromEntries(Object.keys(DEFAULT_DLP_POLICY).map((d) => [d, 'off'])) as unknown as DlpPolicy;
    const value = { content: [{ type: 'text', text: `a ${CARD} b ${TOKEN}` }], [CARD]: CARD };
    const out = dlpValue(allOff, value, 'result');
    expect(out.value).toBe(value);
    expect(out.findings).toEqual([]);
    expect(value).toEqual({ content: [{ type: 'text', text: `a ${CARD} b ${TOKEN}` }], [CARD]: CARD });
    expect(dlpText(allOff, `${CARD} ${TOKEN}`, 'log')).toEqual({ value: `${CARD} ${TOKEN}`, findings: [] });
  });

  it('scrubs every string of a result, keys included, but not base64 image data or resource blobs', () => {
    const value = {
      content: [
        { type: 'text', text: `card ${CARD}` },
        { type: 'image', data: 'AKIAIOSFODNN7EXAMPLE', mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'x:/a', blob: 'AKIAIOSFODNN7EXAMPLE' } },
      ],
      structuredContent: { nested: [[{ [CARD]: TOKEN }]] },
    };
    const out = dlpValue(DEFAULT_DLP_POLICY, value, 'result');
    expect(out.value).toEqual({
      content: [
        { type: 'text', text: 'card [REDACTED:card]' },
        { type: 'image', data: 'AKIAIOSFODNN7EXAMPLE', mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'x:/a', blob: 'AKIAIOSFODNN7EXAMPLE' } },
      ],
      structuredContent: { nested: [[{ '[REDACTED:card]': '[REDACTED:github-token]' }]] },
    });
  });

  it('walks a value nested 100 000 deep without overflowing the stack', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}"${CARD}"${']'.repeat(100_000)}`) as unknown;
    expect(dlpValue(DEFAULT_DLP_POLICY, deep, 'result').findings).toEqual([{ detector: 'card', action: 'redact', where: 'result', count: 1 }]);
  });
});

describe('dlpOutgoing', () => {
  const body = (s: string): Uint8Array => new TextEncoder().encode(s);
  it('redacts a token in the URL and the body, leaving every other byte as it was', () => {
    const seen: DlpFinding[] = [];
    const raw = new Uint8Array([0xff, 0xfe, ...body(` ${TOKEN} é`)]);
    const out = dlpOutgoing(DEFAULT_DLP_POLICY, { url: `https://a.example/?t=${TOKEN}`, body: raw }, (f) => seen.push(...f));
    expect(out.url).toBe('https://a.example/?t=[REDACTED:github-token]');
    expect([...(out.body ?? [])]).toEqual([0xff, 0xfe, ...body(' [REDACTED:github-token] é')]);
    expect(seen.map((f) => f.where)).toEqual(['fetch-url', 'fetch-body']);
  });

  it('with block throws DATA_BLOCKED, after reporting', async () => {
    const seen: DlpFinding[] = [];
    expect(await asyncCodeOf(async () => dlpOutgoing(policy({ 'github-token': 'block' }), { url: 'https://a.example/', body: body(TOKEN) }, (f) => seen.push(...f)))).toBe('DATA_BLOCKED');
    expect(seen).toEqual([{ detector: 'github-token', action: 'block', where: 'fetch-body', count: 1 }]);
  });

  it('returns the very same request when nothing is found', () => {
    const req = { url: 'https://a.example/', body: body('hello') };
    expect(dlpOutgoing(DEFAULT_DLP_POLICY, req, () => {})).toBe(req);
  });
});
