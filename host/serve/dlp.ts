/**
 * DLP on the host: one scope per call (a package's tool, resource, prompt or completion handler) that
 * applies the package's policy (runtime/dlp, docs/dlp.md) to what leaves toward the client — the result,
 * the log lines, the error message — and writes one `dlp` audit record per detector that fired.
 *
 * Threat: a tool may hand back data it should not (a card number read from a file, a token an API
 * echoed). `redact` replaces each match with a marker, `block` fails the call with DATA_BLOCKED (in a
 * log line or an error message, which cannot be refused, it redacts), `log` passes the data and records
 * that it did. The audit record names the detector, never the data.
 */
import { DEFAULT_DLP_POLICY, SandboxError, dlpPolicyFor, dlpText, dlpValue } from '../../runtime/index.ts';
import type { DlpConfig, DlpFinding, DlpPolicy, Grant, LogEvent } from '../../runtime/index.ts';
import type { Audit } from './audit.ts';

export interface DlpScope {
  readonly policy: DlpPolicy;
  /**
   * The result with the policy applied, in place (it must be the caller's own copy, e.g. parsed from JSON).
   * @throws SandboxError DATA_BLOCKED when a `block` detector fired
   */
  result<T>(value: T): T;
  /** A log line or an error message with the policy applied (`block` redacts: text cannot be refused). */
  text(where: 'log' | 'error', text: string): string;
  /** A log event with its message and data scrubbed. */
  logEvent(event: LogEvent): LogEvent;
}

/** The DLP scope of one call of `handler` in `pkg`; its findings go to `audit` as `dlp` records. */
export function dlpScope(audit: Pick<Audit, 'dlp'>, pkg: { readonly name: string; readonly grant: Grant }, handler: string): DlpScope {
  const policy = pkg.grant.dlp ?? DEFAULT_DLP_POLICY;
  const report = (findings: readonly DlpFinding[]): void => {
    for (const f of findings) audit.dlp({ package: pkg.name, tool: handler, ...f });
  };
  const text = (where: 'log' | 'error', s: string): string => {
    const out = dlpText(policy, s, where);
    report(out.findings);
    return out.value;
  };
  return {
    policy,
    result(value) {
      const out = dlpValue(policy, value, 'result');
      report(out.findings);
      if (out.blocked !== undefined) throw new SandboxError('DATA_BLOCKED', `the result was not sent: it contains data the DLP policy blocks (${out.blocked})`);
      return out.value;
    },
    text,
    logEvent(e) {
      const message = typeof e.message === 'string' ? text('log', e.message) : e.message;
      if (e.data === undefined) return message === e.message ? e : { ...e, message };
      const data = dlpValue(policy, e.data, 'log');
      report(data.findings);
      return { ...e, message, data: data.value };
    },
  };
}

/**
 * The packages with their DLP policy from the home's config (section `dlp`, parsed by parseDlpConfig):
 * each package's grant carries its policy, which the host (this file) and the sandbox's fetch
 * (runtime/io/fetch.ts) apply. A package without one gets DEFAULT_DLP_POLICY.
 */
export function withDlpPolicies<P extends { readonly name: string; readonly grant: Grant }>(packages: readonly P[], config: DlpConfig): P[] {
  return packages.map((p) => ({ ...p, grant: { ...p.grant, dlp: dlpPolicyFor(config, p.name) } }));
}
