/**
 * The command table of the CLI. Each command's module loads only when it runs, so `mcp-warden serve`
 * does not pay for the signing libraries. Add a command with one line.
 */
import type { Command } from './io.ts';

export const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: () => import('./serve.ts'),
  pack: () => import('./pack.ts'),
  keygen: () => import('./keygen.ts'),
  sign: () => import('./sign.ts'),
  verify: () => import('./verify.ts'),
  trust: () => import('./trust.ts'),
  install: () => import('./install.ts'),
  list: () => import('./list.ts'),
  remove: () => import('./remove.ts'),
  grant: () => import('./grant.ts'),
  revoke: async () => (await import('./grant.ts')).revoke,
  init: () => import('./init.ts'),
  audit: () => import('./audit.ts'),
  enable: () => import('./enable.ts'),
  inspect: () => import('./inspect.ts'),
  secret: () => import('./secret.ts'),
  policy: () => import('./policy.ts'),
  wrap: () => import('./wrap.ts'),
};

/** One line per command for --help. */
export const SUMMARIES: Record<string, string> = {
  serve: 'serve installed packages (and --dev ones) to an MCP client over stdio',
  pack: 'pack a tool package into a reproducible npm-compatible tarball',
  keygen: 'generate an ECDSA P-256 publisher key pair',
  sign: 'sign a package tarball (keyed, or keyless with Sigstore)',
  verify: 'verify a file against a Sigstore bundle, like cosign verify-blob',
  trust: 'manage trusted publishers (add-key, add-identity, list, remove)',
  install: 'verify a signed package, ask consent to its capabilities, install it',
  list: 'list the installed packages with their signer and grant',
  remove: 'uninstall a package',
  grant: 'bind slots of an installed package (SLOT=DIR or SLOT=RULE)',
  revoke: 'unbind slots of an installed package',
  init: 'scaffold a TypeScript tool package (manifest, esbuild bundle, test)',
  audit: 'verify the audit trail\'s hash chain (verify), or show recent calls and capability uses (tail)',
  enable: 'lift the quarantine of a package (see list for why it was quarantined)',
  inspect: 'show a package\'s definition findings, capabilities and definitions without running it',
  secret: 'store, list or remove the values of secrets packages declare (never shown to tool code)',
  policy: 'show the organisation policy in force and check each installed package against it',
  wrap: 'wrap an MCP server written with the TypeScript SDK (npm or a directory) into a sandboxed package',
};
