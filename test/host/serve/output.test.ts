import { afterAll, describe, expect, it } from 'vitest';
import { dlpScope } from '../../../host/serve/dlp.ts';
import type { DlpRecord } from '../../../host/serve/audit-records.ts';
import type { LoadedTool } from '../../../host/serve/loader.ts';
import { checkedResult, isPlainResultJson } from '../../../host/serve/output.ts';
import { NO_GRANT, inlinePackage, limits, newSandbox } from '../../helpers/sandbox.ts';

const sandbox = newSandbox({ workers: 1 });
afterAll(() => sandbox.close());

const pkg = inlinePackage(`
  export default {
    rows: (input) => Array.from({ length: input.n }, (_, i) => ({ id: i, name: 'row ' + i, note: input.note, nested: { b: [1, 2.5, -0, 1e21], a: null } })),
    text: () => 'just text',
    shaped: () => ({ content: [{ type: 'text', text: 'as a result' }], isError: false }),
    numbered: () => ({ 1: 'one', content: [] }),
  };
`);
const tool = { fullName: 'p__rows', spec: { name: 'rows' } } as unknown as LoadedTool;

describe('a plain result is sent as the JSON the sandbox produced (issue 14: no second serialization)', () => {
  it('hands the host the text its value was parsed from, the same as serializing the value again', async () => {
    const run = await sandbox.run(pkg, 'rows', { n: 2000, note: 'é "quoted" \\ \u2028' }, NO_GRANT, limits());
    expect(run.json).toBeDefined();
    expect(run.json).toBe(JSON.stringify(run.value));
    const result = checkedResult(tool, run.value, run.json);
    expect(result.content).toEqual([{ type: 'text', text: JSON.stringify(run.value) }]);
  });

  it('still applies DLP to the text that is sent', async () => {
    const run = await sandbox.run(pkg, 'rows', { n: 3, note: 'card 4111 1111 1111 1111' }, NO_GRANT, limits());
    const records: DlpRecord[] = [];
    const dlp = dlpScope({ dlp: (r) => records.push(r) }, { name: 'p', grant: NO_GRANT }, 'rows');
    const result = dlp.result(checkedResult(tool, run.value, run.json));
    const text = (result.content[0] as { text: string }).text;
    expect(text).not.toContain('4111 1111 1111 1111');
    expect(text).toContain('[REDACTED:card]');
    expect(records).toEqual([expect.objectContaining({ detector: 'card', where: 'result', count: 3 })]);
  });

  it('a string result is its own text', async () => {
    const run = await sandbox.run(pkg, 'text', {}, NO_GRANT, limits());
    expect(checkedResult(tool, run.value, run.json).content).toEqual([{ type: 'text', text: 'just text' }]);
  });
});

describe('a plain result is not even parsed in the host (RunOptions.keepJson)', () => {
  it('takes only arrays and objects that cannot be CallToolResult-shaped', () => {
    for (const v of [[1, 2], [], {}, { rows: [] }, { text: 'x', content: [] }, { 1: 'a', content: [] }]) expect(isPlainResultJson(JSON.stringify(v))).toBe(true);
    for (const v of ['text', 5, null, true, { content: [] }, { isError: true, content: [] }, { structuredContent: {}, content: [] }]) expect(isPlainResultJson(JSON.stringify(v))).toBe(false);
  });

  it('sends an unparsed result as the same text content a parsed one gives, DLP applied', async () => {
    const run = await sandbox.run(pkg, 'rows', { n: 500, note: 'card 4111 1111 1111 1111' }, NO_GRANT, limits(), { keepJson: isPlainResultJson });
    expect(run.value).toBeUndefined();
    const parsed = await sandbox.run(pkg, 'rows', { n: 500, note: 'card 4111 1111 1111 1111' }, NO_GRANT, limits());
    expect(run.json).toBe(parsed.json);
    const records: DlpRecord[] = [];
    const dlp = dlpScope({ dlp: (r) => records.push(r) }, { name: 'p', grant: NO_GRANT }, 'rows');
    const fast = dlp.result(checkedResult(tool, run.value, run.json));
    expect(fast).toEqual(dlpScope({ dlp: () => {} }, { name: 'p', grant: NO_GRANT }, 'rows').result(checkedResult(tool, parsed.value, undefined)));
    expect(JSON.stringify(fast)).not.toContain('4111 1111 1111 1111');
    expect(records).toEqual([expect.objectContaining({ detector: 'card', where: 'result', count: 500 })]);
  });

  it('still parses what may be a CallToolResult, and checks it as one', async () => {
    const run = await sandbox.run(pkg, 'shaped', {}, NO_GRANT, limits(), { keepJson: isPlainResultJson });
    expect(run.value).toEqual({ content: [{ type: 'text', text: 'as a result' }], isError: false });
    expect(checkedResult(tool, run.value, run.json)).toEqual({ content: [{ type: 'text', text: 'as a result' }], isError: false });
  });

  it('an integer key first is not a CallToolResult either', async () => {
    const run = await sandbox.run(pkg, 'numbered', {}, NO_GRANT, limits(), { keepJson: isPlainResultJson });
    expect(run.json).toBe('{"1":"one","content":[]}');
    expect(checkedResult(tool, run.value, run.json).content).toEqual([{ type: 'text', text: '{"1":"one","content":[]}' }]);
  });
});
