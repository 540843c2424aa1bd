import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SANDBOX_ERROR_CODES } from '../../runtime/errors.ts';

// docs/errors.md is the one table of codes; a code added in the source must be documented there.
const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
const documented = new Set([...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));

describe('docs/errors.md', () => {
  it.each([...SANDBOX_ERROR_CODES])('documents the sandbox code %s', (code) => {
    expect(documented.has(code)).toBe(true);
  });

  it('documents every deny code of runtime/types.ts', () => {
    const types = readFileSync(join(import.meta.dirname, '..', '..', 'runtime', 'types.ts'), 'utf8');
    const block = types.slice(types.indexOf('export type DenyCode'), types.indexOf(';', types.indexOf('export type DenyCode')));
    const codes = [...block.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThan(5);
    for (const code of codes) expect([code, documented.has(code as string)]).toEqual([code, true]);
  });

  it('documents every audit outcome host/serve/server.ts, tool-call.ts and features/run.ts (outcomeOf) write that is not a code above', () => {
    const serve = join(import.meta.dirname, '..', '..', 'host', 'serve');
    const server = ['server.ts', 'tool-call.ts', join('features', 'run.ts')].map((f) => readFileSync(join(serve, f), 'utf8')).join('\n');
    const outcomes = new Set([...server.matchAll(/'([A-Z][A-Z_]+_ERROR)'|`(JSONRPC)_\$\{/g)].map((m) => (m[1] ?? `${m[2]}_<n>`) as string));
    expect([...outcomes].sort()).toEqual(['INTERNAL_ERROR', 'JSONRPC_<n>', 'TOOL_REPORTED_ERROR']);
    const table = new Set([...doc.matchAll(/^\| `([A-Z_]+(?:<n>)?)` \|/gm)].map((m) => m[1]));
    for (const o of outcomes) expect([o, table.has(o)]).toEqual([o, true]);
  });
});
