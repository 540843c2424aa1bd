import { describe, expect, it } from 'vitest';
import { DEFAULT_DLP_POLICY, parseDlpConfig } from '../../../runtime/index.ts';
import type { Grant } from '../../../runtime/index.ts';
import type { DlpRecord } from '../../../host/serve/audit-records.ts';
import { dlpScope, withDlpPolicies } from '../../../host/serve/dlp.ts';
import { asyncCodeOf } from '../../helpers/codes.ts';
import { NO_GRANT } from '../../helpers/sandbox.ts';

const CARD = '4111 1111 1111 1111';

describe('withDlpPolicies', () => {
  it("gives each package its policy from the config's dlp section, keeping the rest of its grant", () => {
    const config = parseDlpConfig({ packages: { a: { card: 'block' } } });
    const [a, b] = withDlpPolicies([{ name: 'a', grant: NO_GRANT }, { name: 'b', grant: NO_GRANT }], config);
    expect(a?.grant.dlp?.card).toBe('block');
    expect(b?.grant.dlp).toEqual(DEFAULT_DLP_POLICY);
    expect(a?.grant.net).toBe(NO_GRANT.net);
  });
});

describe('dlpScope', () => {
  const scope = (over: Partial<typeof DEFAULT_DLP_POLICY> = {}) => {
    const records: DlpRecord[] = [];
    const grant: Grant = { ...NO_GRANT, dlp: { ...DEFAULT_DLP_POLICY, ...over } };
    return { records, dlp: dlpScope({ dlp: (r) => records.push(r) }, { name: 'p', grant }, 't') };
  };

  it('redacts a log event in its message and data, and records where', () => {
    const { records, dlp } = scope();
    expect(dlp.logEvent({ level: 'info', message: `card ${CARD}`, data: { card: CARD } })).toEqual({ level: 'info', message: 'card [REDACTED:card]', data: { card: '[REDACTED:card]' } });
    expect(records).toEqual([
      { package: 'p', tool: 't', detector: 'card', action: 'redact', where: 'log', count: 1 },
      { package: 'p', tool: 't', detector: 'card', action: 'redact', where: 'log', count: 1 },
    ]);
  });

  it('with block, redacts a log line or an error message (text cannot be refused) and records the block', () => {
    const { records, dlp } = scope({ card: 'block' });
    expect(dlp.text('error', `bad ${CARD}`)).toBe('bad [REDACTED:card]');
    expect(records[0]?.action).toBe('block');
  });

  it('with block, refuses a result with DATA_BLOCKED', async () => {
    const { dlp } = scope({ card: 'block' });
    expect(await asyncCodeOf(async () => dlp.result({ content: [{ type: 'text', text: CARD }] }))).toBe('DATA_BLOCKED');
  });
});
