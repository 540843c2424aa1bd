/**
 * Typed errors of the host (host/). Shared by the MCP host and the signing/install commands: add codes with
 * small edits, keep each one documented in docs/errors.md (checked by test/host/errors.test.ts).
 * Hosts branch on `code`, never on `message`.
 */
import { BaseError } from '../runtime/index.ts';

export const HOST_ERROR_CODES = [
  // Loading packages
  'MANIFEST_INVALID', // package.json or its mcpWarden section does not match the published schema
  'PACKAGE_INVALID', // the package directory or its entry file cannot be used (missing, too large, outside the package)
  'PACKAGE_CONFLICT', // two packages claim the same name or namespaced tool name
  'GRANT_INVALID', // a user grant (--grant, --allow-net, lock.json grant) cannot be parsed or its path does not exist
  'LOCK_INVALID', // lock.json in the home directory is unreadable or malformed
  'CONFIG_INVALID', // config.json in the home directory is not JSON or does not match its published schema
  // Signed install (issue 4)
  'INTEGRITY_MISMATCH', // an installed package no longer matches the integrity recorded at install
  'SIGNATURE_INVALID', // the signature bundle does not verify
  'UNTRUSTED_SIGNER', // the signer is not trusted for this package name
  'POLICY_ESCALATION', // the package asks for more than the user allowed
  'IDENTITY_MISMATCH', // the keyless signer's certificate identity is not the one required
  'ISSUER_MISMATCH', // the keyless signer's OIDC issuer is not the one required
  'SIGNER_OUT_OF_SCOPE', // the signer is trusted, but not for this package name
  'SUBJECT_MISMATCH', // the signed statement names another package, version or digest than the artifact
  'TLOG_MISSING', // a keyless bundle carries no transparency-log entry
  'TRUSTED_ROOT_INVALID', // the Sigstore trusted root cannot be read or has an authority without a validity start
  'BUNDLE_INVALID', // the Sigstore bundle file is not a valid bundle
  'TARBALL_INVALID', // the package tarball is malformed, truncated, oversized or has unsafe entries
  'KEY_INVALID', // a key file cannot be read, parsed or decrypted, or is not ECDSA P-256
  'SIGNING_FAILED', // keyless signing failed: no identity token, or Fulcio, Rekor or the TSA refused or was unreachable
  'TRUST_INVALID', // trust.json in the home directory is unreadable or malformed, or a publisher entry is invalid
  // npm provenance (issue 12)
  'PROVENANCE_MISSING', // an npm package version has no SLSA provenance or no publish attestation
  'PROVENANCE_INVALID', // the attestations are malformed, oversized, or do not verify (signature, certificate, transparency log)
  'PROVENANCE_SUBJECT_MISMATCH', // an attestation is for another package name, version or tarball digest
  'PROVENANCE_KEY_UNKNOWN', // the publish attestation is signed by a key the registry does not list
  'PROVENANCE_KEY_EXPIRED', // the publish attestation's registry key had expired when it was logged
  'PROVENANCE_UNTRUSTED', // no trusted provenance publisher names the repository (and issuer) that built the package
  'PROVENANCE_WORKFLOW_MISMATCH', // the repository is trusted, but only for another workflow file
  'PROVENANCE_REF_MISMATCH', // the repository and workflow are trusted, but not for this git ref
  // Install and the package lifecycle
  'CONSENT_REQUIRED', // installing needs the user's consent to the capabilities (no terminal and no --yes, or declined); or a call needs a capability asked at first use and the client cannot ask (docs/consent.md)
  'CONSENT_REFUSED', // a call needs a capability the user refused for good ("never", or grant --deny); not asked again
  'CONSENT_DENIED', // a call needs a capability asked at first use and the user declined or cancelled the question (this call only)
  'CONSENT_TIMEOUT', // a call needs a capability asked at first use and nobody answered within the consent timeout
  'VERSION_DOWNGRADE', // an update to a lower version than the installed one (--allow-downgrade to override)
  'VERSION_CONFLICT', // this version is already installed with other contents (a publisher must bump the version)
  'SIGNER_CHANGED', // an update signed by another signer than the one recorded at install (--trust-new-signer)
  'FETCH_FAILED', // an HTTPS download failed, timed out or was larger than the cap
  'NOT_INSTALLED', // remove, grant or revoke named a package that is not installed
  'HOME_BUSY', // another install, remove, grant or revoke is changing this home right now
  'HOME_UNSAFE', // the home, lock.json, trust.json, a key or a package directory is not the user's or others can write it
  'GRANT_COVERS_HOME', // a grant would reach the home directory (its keys, lock, trust policy or packages) or the trust root
  'TOOL_NAME_CONFLICT', // a package's namespaced tool name is already used by another installed package
  'FINDINGS_NOT_ACCEPTED', // install: the package's definitions have findings of severity medium or high and --accept-findings was not given
  'DEFINITIONS_REFUSED', // install: strict mode (config.json trust.strictDefinitions) refuses a package with such findings
  'DEFINITIONS_CHANGED', // an update changes the tool/prompt/resource definitions without consent, or serve found definitions other than the pinned ones
  'SERVED_NAME_CONFLICT', // two installed packages serve the same prompt name or resource URI space (both refused)
  // Organisation policy (docs/policy.md)
  'POLICY_INVALID', // a policy file (system-wide, --policy or MCP_WARDEN_POLICY) is unreadable, not JSON, off-schema, or others can write it
  'POLICY_SIGNER_NOT_ALLOWED', // the organisation policy does not allow the package's signer (or not for this package name)
  'POLICY_PACKAGE_BLOCKED', // the organisation policy blocks the package by name, scope or tarball digest
  'POLICY_CAPABILITY_DENIED', // a granted network or file rule, or a declared secret, is beyond the organisation policy's ceiling
  'POLICY_DEFINITIONS_REFUSED', // the organisation policy's strict mode refuses a package whose definitions have medium or high findings
  // Install from the npm registry (issue 12; host/registry/)
  'REGISTRY_CONFIG_INVALID', // the npm configuration (.npmrc, npm_config_*) names a registry that is not a URL, not https (http only on loopback), or cannot be parsed
  'REGISTRY_RESPONSE_INVALID', // the registry answered something that is not the JSON document expected (garbage, wrong package, no sha512 dist.integrity, a non-https URL)
  'REGISTRY_RESPONSE_TOO_LARGE', // a registry answer (packument, tarball, attestations, keys) is larger than its cap: the read was cut off
  'REGISTRY_ADDRESS_REFUSED', // a request or redirect would reach a private, loopback or other special address other than the configured registry's host
  'PACKAGE_NOT_FOUND', // install NAME[@RANGE]: the registry has no such package, or no version matching the range or tag
  'DEPENDENCIES_UNSUPPORTED', // install NAME: the package declares runtime dependencies (a tool package ships one bundled entry)
  // Tool calls (returned to the client as a CallToolResult with isError: true)
  'INVALID_ARGUMENTS', // the arguments do not match the tool's inputSchema
  'OUTPUT_SCHEMA_MISMATCH', // the tool's result does not match its declared outputSchema
  'RATE_LIMITED', // the package's call rate limit was reached
  'PACKAGE_QUARANTINED', // the package tripped the quarantine (repeated denials, limit kills or DLP blocks); `mcp-warden enable NAME` lifts it
  'QUARANTINE_INVALID', // <home>/quarantine.json is damaged: no package is served until `enable` rewrites it
  'INPUT_REQUEST_INVALID', // a tool's ctx.inputRequired asked for something malformed, of an unknown kind, too large or too many
  'INPUT_ROUNDS_EXCEEDED', // a tool asked the client for input more than 8 times in one call
  'UNSUPPORTED_API', // a wrapped MCP server called a Node API the sandbox cannot serve (child processes, sockets, synchronous files, native addons)
  'SERVER_ANSWER_INVALID', // a wrapped MCP server answered a forwarded request with something that is not a JSON-RPC answer of the right shape
  // Resources, prompts and completions (a JSON-RPC error whose data carries the code)
  'RESOURCE_TOO_LARGE', // a resource read's contents add up to more than the host's cap
  'RESULT_INVALID', // a resource, prompt or completion handler returned a value of the wrong shape or size
  // CLI
  'USAGE', // bad command-line usage
  'HOME_UNUSABLE', // serve: the home is not a directory, or cannot be created or written (read-only, full, permissions)
  'LOG_FILE_UNUSABLE', // serve: the --log-file cannot be created or opened
  'AUDIT_TAMPERED', // audit verify: a record of the audit log was edited, removed, reordered or truncated, or cannot be checked
  'PREFIX_REQUIRED', // serve --no-prefix: more than one package would be served, so names need their namespace
  'SECRETS_INVALID', // the secrets store, its key or a secrets file cannot be read, decrypted (tampered, wrong key) or parsed
  'SECRET_UNKNOWN', // secret rm named a secret that is not stored, or secret set a name that is not a valid secret name
  // The operating system refused (any command; host/commands/os-errors.ts)
  'DISK_FULL', // no space left on the device, or a disk quota (ENOSPC, EDQUOT)
  'READ_ONLY', // the file system is read-only (EROFS)
  'PERMISSION_DENIED', // the user may not read or write there (EACCES, EPERM)
  'PATH_INVALID', // a path names nothing, a file where a directory is needed (or the reverse), or an existing output
  'IO_FAILED', // an input/output error, too many open files, a busy file, a move across file systems
] as const;

export type HostErrorCode = (typeof HOST_ERROR_CODES)[number];

export class HostError extends BaseError<HostErrorCode> {}

export function isHostError(e: unknown): e is HostError {
  return e instanceof HostError;
}

/** The errno code of a failed file-system call (`ENOSPC`, …), or "error", for a one-line message. */
export function errnoOf(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'error';
}
