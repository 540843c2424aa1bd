/**
 * The user's npm configuration, read as npm reads it: the user's `.npmrc` (`$npm_config_userconfig`, else
 * `~/.npmrc`), the project's `.npmrc` (in the nearest directory up from the working directory that holds a
 * package.json or node_modules, as npm's localPrefix), then `npm_config_*` environment variables, each
 * layer overriding the one before. Values and keys expand `${VAR}` (and `${VAR?}`, empty when unset) from
 * the environment, with npm's escaping rule. The result is the flat key → value object npm's own
 * libraries take as options (npm-registry-fetch reads `registry`, `@scope:registry` and the per-registry
 * credentials `//host/path/:_authToken`, `:_auth`, `:username` + `:_password` itself).
 *
 * Not read (documented in docs/npm-install.md): npm's global and built-in config files, proxies and
 * custom CAs. Plain http is refused except for a registry on a loopback address, which a test or a local
 * mirror may use (npm allows http anywhere; we do not, since the token and the choice of version would
 * travel in clear).
 *
 * Plain functions over the file contents and the environment handed in; the caller reads the files.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ini from 'ini';
import { HostError } from '../errors.ts';

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';
/** Largest .npmrc read. */
const MAX_NPMRC_BYTES = 1024 * 1024;

export type NpmConfig = Readonly<Record<string, string>>;

// @npmcli/config's env-replace: `${NAME}` and `${NAME?}`, an odd number of backslashes escapes it.
const ENV_EXPR = /(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}/g;

/** `${VAR}` expansion as npm does it. */
export function expandEnv(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(ENV_EXPR, (orig, esc: string, name: string, modifier: string | undefined) => {
    const fallback = modifier === '?' ? '' : `\${${name}}`;
    const val = env[name] !== undefined ? (env[name] as string) : fallback;
    if (esc.length % 2) return orig.slice((esc.length + 1) / 2);
    return esc.slice(esc.length / 2) + val;
  });
}

/** One .npmrc's settings (string values only: npm's list values such as `ca[]` are not used here). */
export function parseNpmrc(text: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  let parsed: Record<string, unknown>;
  try {
    parsed = ini.parse(text);
  } catch {
    throw new HostError('REGISTRY_CONFIG_INVALID', '.npmrc cannot be parsed');
  }
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v === 'string') out[expandEnv(k, env)] = expandEnv(v, env);
    else if (typeof v === 'boolean') out[expandEnv(k, env)] = String(v);
  }
  return out;
}

/** The `npm_config_*` variables as config keys (npm's rule: `_` → `-` except a leading one, lowercased; `//…` keys kept). */
export function envConfig(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!/^npm_config_/i.test(k) || v === undefined || v === '') continue;
    let key = k.slice('npm_config_'.length);
    if (!key.startsWith('//')) key = key.replace(/(?!^)_/g, '-').toLowerCase();
    out[key] = v;
  }
  return out;
}

function readNpmrc(path: string, env: NodeJS.ProcessEnv): Record<string, string> {
  let text: string;
  try {
    if (statSync(path).size > MAX_NPMRC_BYTES) throw new HostError('REGISTRY_CONFIG_INVALID', `${path} is larger than ${MAX_NPMRC_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof HostError) throw e;
    return {};
  }
  return parseNpmrc(text, env);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** npm's localPrefix: the nearest directory up from `cwd` with a package.json or node_modules, else `cwd`. */
export function localPrefix(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (exists(join(dir, 'package.json')) || exists(join(dir, 'node_modules'))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}

/**
 * The effective configuration for `cwd` and `env` (user file < project file < environment).
 * @throws HostError REGISTRY_CONFIG_INVALID
 */
export function loadNpmConfig(cwd: string, env: NodeJS.ProcessEnv): NpmConfig {
  const fromEnv = envConfig(env);
  const home = env.HOME ?? env.USERPROFILE;
  const userFile = fromEnv.userconfig ?? (home ? join(home, '.npmrc') : undefined);
  const user = userFile ? readNpmrc(resolve(cwd, expandEnv(userFile, env)), env) : {};
  const project = readNpmrc(join(localPrefix(cwd), '.npmrc'), env);
  return { registry: DEFAULT_REGISTRY, ...user, ...project, ...fromEnv };
}

/** Whether a host name is a loopback address or "localhost" (where plain http is accepted). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/**
 * The registry URL for a package name (its scope's `@scope:registry`, else `registry`), normalised with a
 * trailing slash. @throws HostError REGISTRY_CONFIG_INVALID (not a URL, not https, http off loopback)
 */
export function registryFor(config: NpmConfig, name: string): URL {
  const scope = name.startsWith('@') ? name.slice(0, name.indexOf('/')) : undefined;
  const raw = (scope !== undefined ? config[`${scope}:registry`] : undefined) ?? config.registry ?? DEFAULT_REGISTRY;
  let url: URL;
  try {
    url = new URL(raw.endsWith('/') ? raw : `${raw}/`);
  } catch {
    throw new HostError('REGISTRY_CONFIG_INVALID', `the npm registry for ${name} is not a URL: ${raw.slice(0, 200)}`);
  }
  if (url.username || url.password) throw new HostError('REGISTRY_CONFIG_INVALID', `the npm registry URL for ${name} carries credentials; put them in .npmrc as //host/:_authToken`);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw new HostError('REGISTRY_CONFIG_INVALID', `the npm registry for ${name} (${url.origin}) is not https: mcp-warden accepts plain http only on a loopback address`);
}
