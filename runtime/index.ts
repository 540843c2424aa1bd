/**
 * The public surface of the sandbox runtime. host/ imports runtime/ only through this file.
 * Any new export added here becomes public API.
 */
export { createSandbox } from './pool/index.ts';
export type {
  ConsentDecision,
  ConsentDenyCode,
  ConsentHook,
  ConsentRequest,
  Grant,
  LogEvent,
  LogLevel,
  PackageCode,
  ProgressEvent,
  RunOptions,
  RunResult,
  Sandbox,
  SandboxOptions,
  SandboxStats,
} from './api.ts';
export { LOG_LEVELS } from './api.ts';
export { isEmptyAskGrant, matchFsAsk, matchNetAsk, parseAskGrant } from './capabilities/ask.ts';
export type { AskGrant, AskMatch, AskRule, AskRuleTexts } from './capabilities/ask.ts';
export type { EntryKind } from './entry-name.ts';
export { SERVER_ENTRY_HANDLER } from './entry-name.ts';
export { DEFAULT_LIMITS } from './types.ts';
export { frameArgs } from './call-args.ts';
export type { ArgsFrame } from './call-args.ts';
export type { CapabilityEvent, Decision, DenyCode, Limits } from './types.ts';
export { BaseError, RETRYABLE_CODES, SANDBOX_ERROR_CODES, SandboxError, boundedMessage, isSandboxError } from './errors.ts';
export type { SandboxErrorCode } from './errors.ts';
export { intersectNetGrants, netGrantToStrings, netRuleToString, parseNetGrant, parseNetRule } from './capabilities/net.ts';
export type { NetGrant, NetRule } from './capabilities/net.ts';
export { fsGrantToStrings, intersectFsGrants, parseFsGrant, parseFsRule } from './capabilities/fs.ts';
export type { FsGrant, FsRule } from './capabilities/fs.ts';
export { resolveFsGrant } from './io/files.ts';
export { DescriptorWriter } from './io/descriptor-writer.ts';
export { DEFAULT_BREAKER_CONFIG, parseBreakerConfig } from './io/breaker.ts';
export type { BreakerConfig } from './io/breaker.ts';
export { denyFsPaths, isWithin } from './capabilities/fs.ts';
// The sandbox's list of addresses refused by default, shared with the host's registry client (host/registry/transport.ts).
export { specialAddressReason } from './capabilities/special-addresses.ts';
// Data-loss prevention (runtime/dlp): pure detectors and policy, used by the host for results, logs and errors.
export { DEFAULT_DLP_CONFIG, DEFAULT_DLP_POLICY, DETECTORS, DLP_ACTIONS, dlpActive, dlpPolicyFor, dlpText, dlpValue, parseDlpConfig, redactionMarker } from './dlp/index.ts';
export type { DetectorId, DlpAction, DlpConfig, DlpFinding, DlpPolicy, DlpWhere } from './dlp/index.ts';
// Secrets tool code never sees (docs/secrets.md): bindings as plain data, pure checks; values stay in the host.
export { SECRET_NAME, describeSecretPlace, parseSecretBinding, redactSecrets, secretForms, secretPlaceholder } from './capabilities/secrets.ts';
export type { GrantedSecret, SecretBinding, SecretDeclaration, SecretGrant, SecretPlace } from './capabilities/secrets.ts';
