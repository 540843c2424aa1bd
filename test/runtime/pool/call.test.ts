import { describe, expect, it } from 'vitest';
import type { PackageCode } from '../../../runtime/api.ts';
import { SandboxError } from '../../../runtime/errors.ts';
import { afterLimitOf, exitOutcome, newCall } from '../../../runtime/pool/call.ts';
import type { Verdict } from '../../../runtime/pool/worker.ts';
import { limits } from '../../helpers/sandbox.ts';

const pkg = { id: 'p1', name: 'pkg-one', source: '' } as unknown as PackageCode;
const call = (over: Partial<{ id: number; sideEffects: boolean; retried: boolean }> = {}) => ({ id: 1, pkg, sideEffects: false, retried: false, ...over });
const codeOf = (o: SandboxError | 'rerun') => (o === 'rerun' ? o : o.code);

describe('exitOutcome: what a worker\'s end means for a call it held', () => {
  const culprit = (over: Partial<{ pkg: string; call: number | null }> = {}): Verdict => ({ kind: 'culprit', pkg: 'p1', call: 1, code: 'SANDBOX_TIMEOUT', message: 'the call exceeded its wall-clock limit', ...over });

  it.each<[string, Verdict, ReturnType<typeof call>, string]>([
    ['the sandbox closed', { kind: 'closed' }, call(), 'SANDBOX_CLOSED'],
    ['the worker stopped answering: nobody blamed, no re-run', { kind: 'unresponsive' }, call(), 'WORKER_UNRESPONSIVE'],
    ['this call was the culprit', culprit(), call(), 'SANDBOX_TIMEOUT'],
    ['its package was the culprit, no call named', culprit({ call: null }), call(), 'SANDBOX_TIMEOUT'],
    ['another call of its package was the culprit', culprit({ call: 2 }), call(), 'ISOLATE_RESET'],
    ['a crash, and nothing left the sandbox', { kind: 'crashed' }, call(), 'rerun'],
    ['another package was the culprit, and nothing left the sandbox', culprit({ pkg: 'p2' }), call(), 'rerun'],
    ['a crash after a capability request', { kind: 'crashed' }, call({ sideEffects: true }), 'WORKER_CRASHED'],
    ['a crash of a call already re-run once', { kind: 'crashed' }, call({ retried: true }), 'WORKER_CRASHED'],
  ])('when %s', (_when, verdict, c, expected) => {
    expect(codeOf(exitOutcome(verdict, c, false))).toBe(expected);
  });

  it('re-runs nothing once the sandbox is closing', () => {
    expect(codeOf(exitOutcome({ kind: 'crashed' }, call(), true))).toBe('WORKER_CRASHED');
  });

  it('gives the culprit the verdict\'s own message', () => {
    expect((exitOutcome(culprit(), call(), false) as SandboxError).message).toBe('the call exceeded its wall-clock limit');
  });
});

describe('afterLimitOf: whether a call\'s end should recycle its worker', () => {
  const ended = (logBytes = 0) => ({ pkg, limits: limits({ logBytes: 65536 }), logBytes });

  it.each(['SANDBOX_MEMORY_LIMIT', 'OUTPUT_TOO_LARGE', 'QUOTA_EXCEEDED'] as const)('recycles after %s', (code) => {
    expect(afterLimitOf(ended(), new SandboxError(code, 'x'))).toEqual({ recycle: `${code} in pkg-one` });
  });

  it.each(['SANDBOX_CPU_LIMIT', 'SANDBOX_TIMEOUT', 'OUTPUT_INVALID', 'TOOL_THREW'] as const)('looks at the resident memory after %s', (code) => {
    expect(afterLimitOf(ended(), new SandboxError(code, 'x'))).toEqual({ checkResident: code });
  });

  it('recycles after a log flood (within two lines of the quota), even on success', () => {
    expect(afterLimitOf(ended(65536 - 8192), { value: 1 } as never)).toEqual({ recycle: 'log flood in pkg-one' });
    expect(afterLimitOf(ended(65536 - 8193), { value: 1 } as never)).toBeNull();
  });

  it('does nothing after a cancellation or a refused capability', () => {
    expect(afterLimitOf(ended(), new SandboxError('CANCELLED', 'x'))).toBeNull();
    expect(afterLimitOf(ended(), new SandboxError('CAPABILITY_DENIED', 'x'))).toBeNull();
  });
});

describe('newCall', () => {
  it('starts queued, with nothing done yet and no deadline', () => {
    const c = newCall({ id: 3, pkg, tool: 't', args: { text: '{}' }, grant: {} as never, limits: limits(), options: {}, resolve: () => undefined, reject: () => undefined });
    expect([c.state, c.worker, c.deadline, c.sideEffects, c.denied, c.circuitOpen, c.retried, c.logBytes, c.io]).toEqual(['queued', null, Number.POSITIVE_INFINITY, false, false, false, false, 0, null]);
  });
});
