/**
 * Where secret values come from, for serve: the encrypted store (host/secrets/store.ts), a secrets file
 * named in config.json (plain JSON `{ "NAME": "value" }`, 0600, refused when others can read it), and
 * environment variables mapped explicitly in config.json (`secrets.fromEnv`: NAME → variable). The first
 * that has a value wins, in that order; a package-scoped stored value before one for every package.
 */
import { readFile } from 'node:fs/promises';
import { HostError } from '../errors.ts';
import type { Home } from '../home/home.ts';
import { SECRET_NAME } from '../../runtime/index.ts';
import type { Keychain } from './key.ts';
import { assertPrivateFile } from './private-file.ts';
import { ANY_PACKAGE, openStore } from './store.ts';

/** The `secrets` section of config.json, parsed. */
export interface SecretsConfig {
  /** Secret name → environment variable holding its value (explicit: no variable is read otherwise). */
  readonly fromEnv: Readonly<Record<string, string>>;
  /** An absolute path of a plain JSON secrets file, or null. */
  readonly file: string | null;
  /** Keep the store's key in the OS keychain when one is reachable (default true); false: the key file. */
  readonly keychain: boolean;
}

export const DEFAULT_SECRETS_CONFIG: SecretsConfig = Object.freeze({ fromEnv: Object.freeze({}), file: null, keychain: true });

/** Parses the section (its shape was checked by the config schema). */
export function parseSecretsConfig(raw: unknown): SecretsConfig {
  if (raw === undefined) return DEFAULT_SECRETS_CONFIG;
  const r = raw as { fromEnv?: Record<string, string>; file?: string; keychain?: boolean };
  return { fromEnv: { ...(r.fromEnv ?? {}) }, file: r.file ?? null, keychain: r.keychain ?? true };
}

/** The values available to packages: `valueFor(package, name)`. */
export interface SecretValues {
  valueFor(pkg: string, name: string): string | undefined;
  /** Every value (for the host's redactor: no value may appear in a log line or a message). */
  all(): string[];
}

async function readSecretsFile(path: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!(await assertPrivateFile(path))) throw new HostError('SECRETS_INVALID', `the secrets file ${path} (config.json secrets.file) does not exist`);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new HostError('SECRETS_INVALID', `the secrets file ${path} is not valid JSON`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new HostError('SECRETS_INVALID', `the secrets file ${path} must be a JSON object of NAME: "value"`);
  for (const [name, value] of Object.entries(data)) {
    if (!SECRET_NAME.test(name) || typeof value !== 'string') throw new HostError('SECRETS_INVALID', `the secrets file ${path}: entry ${JSON.stringify(name.slice(0, 64))} must be an upper-case NAME with a string value`);
    out.set(name, value);
  }
  return out;
}

/** Loads every source. @throws HostError SECRETS_INVALID, HOME_UNSAFE */
export async function loadSecretValues(home: Home, config: SecretsConfig, env: Readonly<Record<string, string | undefined>>, keychain: Keychain | null): Promise<SecretValues> {
  const stored = await openStore(home, keychain);
  const file = config.file === null ? new Map<string, string>() : await readSecretsFile(config.file);
  const fromEnv = new Map<string, string>();
  for (const [name, variable] of Object.entries(config.fromEnv)) {
    const v = env[variable];
    if (typeof v === 'string' && v !== '') fromEnv.set(name, v);
  }
  return {
    valueFor: (pkg, name) => stored.get(pkg)?.get(name) ?? stored.get(ANY_PACKAGE)?.get(name) ?? file.get(name) ?? fromEnv.get(name),
    all: () => [...[...stored.values()].flatMap((m) => [...m.values()]), ...file.values(), ...fromEnv.values()],
  };
}
