/**
 * DLP policy as plain data: for each detector an action, with per-package overrides. Parsed once from the
 * home's config (section `dlp`, schema: host/home/config.schema.json); `dlpPolicyFor` is a pure lookup.
 *
 * Default: secrets, keys and tokens, payment cards, SSNs and IBANs are redacted; e-mail addresses and
 * phone numbers (too common in legitimate results) are not looked for.
 */
import { SandboxError } from '../errors.ts';
import { DETECTORS } from './detectors.ts';
import type { DetectorId } from './detectors.ts';

/** `redact` replaces the match, `block` refuses the data (DATA_BLOCKED), `log` only audits, `off` does not look. */
export const DLP_ACTIONS = ['redact', 'block', 'log', 'off'] as const;
export type DlpAction = (typeof DLP_ACTIONS)[number];

/** The action of every detector. */
export type DlpPolicy = Readonly<Record<DetectorId, DlpAction>>;

export const DEFAULT_DLP_POLICY: DlpPolicy = Object.freeze({
  card: 'redact',
  ssn: 'redact',
  iban: 'redact',
  'aws-access-key': 'redact',
  'github-token': 'redact',
  'gitlab-token': 'redact',
  'slack-token': 'redact',
  'stripe-key': 'redact',
  'google-api-key': 'redact',
  jwt: 'redact',
  'private-key': 'redact',
  email: 'off',
  phone: 'off',
});

export interface DlpConfig {
  /** Every package's policy, before its own overrides. */
  readonly defaults: DlpPolicy;
  /** Per package name: the detectors whose action differs. */
  readonly packages: Readonly<Record<string, Partial<DlpPolicy>>>;
}

export const DEFAULT_DLP_CONFIG: DlpConfig = Object.freeze({ defaults: DEFAULT_DLP_POLICY, packages: Object.freeze({}) });

function invalid(message: string): SandboxError {
  return new SandboxError('RULE_INVALID', `dlp: ${message}`);
}

function isDetector(k: string): k is DetectorId {
  return (DETECTORS as readonly string[]).includes(k);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `{ "<detector>": "<action>" }`, closed: an unknown detector or action is refused. */
function parseActions(raw: unknown, where: string): Partial<Record<DetectorId, DlpAction>> {
  if (!isPlainObject(raw)) throw invalid(`${where} must be an object of detector: action`);
  const out: Partial<Record<DetectorId, DlpAction>> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!isDetector(k)) throw invalid(`${where}: unknown detector "${k.slice(0, 64)}" (known: ${DETECTORS.join(', ')})`);
    if (typeof v !== 'string' || !(DLP_ACTIONS as readonly string[]).includes(v)) throw invalid(`${where}.${k}: the action must be one of ${DLP_ACTIONS.join(', ')}`);
    out[k] = v as DlpAction;
  }
  return out;
}

/**
 * Parses the `dlp` section of the home's config: `{ "detectors": {…}, "packages": { "<name>": {…} } }`,
 * both optional. Missing: the defaults.
 * @throws SandboxError RULE_INVALID naming the bad key
 */
export function parseDlpConfig(raw: unknown): DlpConfig {
  if (raw === undefined || raw === null) return DEFAULT_DLP_CONFIG;
  if (!isPlainObject(raw)) throw invalid('the section must be an object');
  for (const k of Object.keys(raw)) if (k !== 'detectors' && k !== 'packages') throw invalid(`unknown key "${k.slice(0, 64)}" (known: detectors, packages)`);
  const defaults: DlpPolicy = Object.freeze({ ...DEFAULT_DLP_POLICY, ...(raw.detectors === undefined ? {} : parseActions(raw.detectors, 'detectors')) });
  const packages: Record<string, Partial<DlpPolicy>> = {};
  if (raw.packages !== undefined) {
    if (!isPlainObject(raw.packages)) throw invalid('packages must be an object of package name: { detector: action }');
    for (const [name, actions] of Object.entries(raw.packages)) packages[name] = Object.freeze(parseActions(actions, `packages.${name.slice(0, 64)}`));
  }
  return Object.freeze({ defaults, packages: Object.freeze(packages) });
}

/** The policy of one package: the defaults with its overrides. */
export function dlpPolicyFor(config: DlpConfig, pkg: string): DlpPolicy {
  const own = Object.hasOwn(config.packages, pkg) ? config.packages[pkg] : undefined;
  return own === undefined ? config.defaults : Object.freeze({ ...config.defaults, ...own });
}
