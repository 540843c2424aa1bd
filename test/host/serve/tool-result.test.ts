import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@modelcontextprotocol/server';
import { HostError } from '../../../host/errors.ts';
import { createRedactor } from '../../../host/serve/redact.ts';
import { ERROR_META_KEY, WireError, toolErrorResult } from '../../../host/serve/tool-result.ts';
import { SandboxError } from '../../../runtime/index.ts';

const SECRET = 'sk-live-0123456789abcdef';
const redact = createRedactor({ env: { API_TOKEN: SECRET, SHORT: 'abc' }, paths: ['/srv/warden-home'] });

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('toolErrorResult', () => {
  describe('when a tool fails', () => {
    it.each([
      [new SandboxError('SANDBOX_TIMEOUT', 'wall-clock limit of 3000 ms reached'), 'SANDBOX_TIMEOUT', false],
      [new SandboxError('WORKER_CRASHED', 'the worker died'), 'WORKER_CRASHED', true],
      [new SandboxError('CAPABILITY_DENIED', 'fetch to https://evil.example.com:443 denied'), 'CAPABILITY_DENIED', false],
      [new HostError('INVALID_ARGUMENTS', 'arguments.x must be string'), 'INVALID_ARGUMENTS', false],
      [new HostError('RATE_LIMITED', 'too many calls'), 'RATE_LIMITED', true],
    ])('returns a CallToolResult with isError and the stable code (%#)', (error, code, retryable) => {
      const r = toolErrorResult(error, redact);
      expect(r.isError).toBe(true);
      expect(r.content[0]).toEqual({ type: 'text', text: `${code}: ${error.message}` });
      expect(r._meta?.[ERROR_META_KEY]).toEqual({ code, retryable });
    });
  });

  describe('when the host itself fails', () => {
    it('throws a generic JSON-RPC internal error with no detail', () => {
      const e = thrown(() => toolErrorResult(new Error(`ENOENT: open '/srv/warden-home/lock.json' ${SECRET}`), redact));
      expect(e).toBeInstanceOf(WireError);
      expect((e as WireError).code).toBe(-32603);
      expect((e as WireError).message).toBe('Internal error');
    });

    it('treats a loader error as a host fault', () => {
      expect(thrown(() => toolErrorResult(new HostError('LOCK_INVALID', 'lock.json: bad'), redact))).toBeInstanceOf(WireError);
    });

    it('passes a JSON-RPC error through with its message once, without a second "MCP error" prefix', () => {
      const e = thrown(() => toolErrorResult(new ProtocolError(-32602, 'Unknown tool: x'), redact));
      expect(e).toBeInstanceOf(WireError);
      expect({ code: (e as WireError).code, message: (e as WireError).message }).toEqual({ code: -32602, message: 'Unknown tool: x' });
    });
  });

  describe('the message', () => {
    it('never carries a stack, a host path or an environment value', () => {
      const err = new SandboxError('TOOL_THREW', `failed reading /srv/warden-home/packages/x with ${SECRET}\n    at run (file:///srv/warden-home/x.js:1:1)\n    at next (node:internal/x:2:2)`);
      const text = (toolErrorResult(err, redact).content[0] as { text: string }).text;
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('/srv/warden-home');
      expect(text).not.toMatch(/\bat run|file:\/\/|node:internal/);
      expect(text).toContain('[redacted]');
    });

    it('is bounded', () => {
      const text = (toolErrorResult(new SandboxError('TOOL_THREW', 'x'.repeat(100_000)), redact).content[0] as { text: string }).text;
      expect(text.length).toBeLessThan(1_200);
    });

    it('keeps short, common environment values (they are not secrets)', () => {
      const text = (toolErrorResult(new SandboxError('TOOL_THREW', 'abc is fine'), redact).content[0] as { text: string }).text;
      expect(text).toBe('TOOL_THREW: abc is fine');
    });
  });
});

describe('retryability of host tool-call codes', () => {
  // docs/errors.md's "Retryable" column and the wire's _meta must say the same thing (issue 8, item 3).
  const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'errors.md'), 'utf8');
  it.each(['INVALID_ARGUMENTS', 'OUTPUT_SCHEMA_MISMATCH', 'RATE_LIMITED'] as const)('%s: the docs and the wire agree', (code) => {
    const row = new RegExp(`^\\| \`${code}\` \\| (yes|no) \\|`, 'm').exec(doc);
    expect(row).not.toBeNull();
    const meta = toolErrorResult(new HostError(code, 'x'), redact)._meta?.[ERROR_META_KEY] as { retryable: boolean };
    expect(meta.retryable).toBe(row?.[1] === 'yes');
  });
});
