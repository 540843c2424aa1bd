/**
 * Scrubs text that leaves the host (error messages to the client, log lines): removes stack frames and
 * replaces host paths and environment values with placeholders.
 *
 * Threat: an error raised on the host side (a capability failure, a loader problem) may carry a path of the
 * user's machine, a stack or a secret from the environment; a client (and the model behind it) must see
 * none of them. Tools never see the environment, so any env value in a message came from the host.
 */
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';

export type Redactor = (text: string) => string;

export interface RedactorOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Host paths to hide (the home directory, the install directory, the working directory…). */
  readonly paths?: readonly string[];
  /** Longest text returned, UTF-16 units. */
  readonly maxLength?: number;
  /** The secret values serve holds (docs/secrets.md), read at each call: each becomes "[secret]". */
  readonly secrets?: () => readonly string[];
}

/** Secret values shorter than this are left alone (a 1-character "secret" would blank every message). */
const MIN_SECRET_VALUE_LENGTH = 4;

/** Environment values shorter than this are left alone (too common to be secrets: "1", "true", "en_US"). */
const MIN_SECRET_LENGTH = 8;

// The directory mcp-warden runs from (dist/host or host/): its parent is the install directory.
const INSTALL_DIR = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

export function createRedactor(options: RedactorOptions = {}): Redactor {
  const max = options.maxLength ?? 2048;
  const replacements: [string, string][] = [];
  const userHome = homedir();
  for (const p of [INSTALL_DIR, ...(options.paths ?? [])]) if (p && p.length > 1) replacements.push([p, '<host-path>']);
  if (userHome && userHome.length > 1) replacements.push([userHome, '~']);
  for (const value of Object.values(options.env ?? {})) {
    if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) replacements.push([value, '[redacted]']);
  }
  // Longest first, so a path inside another is replaced whole.
  replacements.sort((a, b) => b[0].length - a[0].length);
  return (text) => {
    let s = String(text)
      // Stack frames ("    at fn (file:line:col)"), in any position.
      .replace(/\n\s*at\s[^\n]*/g, '')
      .replace(/file:\/\/[^\s)]*/g, '<host-path>');
    // Secrets first, longest first: a secret inside a path or env value is still hidden whole.
    const secrets = (options.secrets?.() ?? []).filter((v) => v.length >= MIN_SECRET_VALUE_LENGTH).sort((a, b) => b.length - a.length);
    for (const value of secrets) if (s.includes(value)) s = s.split(value).join('[secret]');
    for (const [needle, placeholder] of replacements) s = s.split(needle).join(placeholder);
    if (s.length > max) s = `${s.slice(0, max)}…`;
    return s;
  };
}
