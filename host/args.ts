/**
 * A small flag parser for the CLI: "--flag value", "--flag=value", repeatable flags, booleans, positionals.
 * Unknown flags are usage errors (a typo must not silently drop a restriction such as --allow-net).
 */
import { HostError } from './errors.ts';

export interface FlagSpec {
  readonly [flag: string]: 'string' | 'strings' | 'boolean';
}

export interface ParsedArgs {
  readonly flags: Record<string, string | string[] | boolean | undefined>;
  readonly positionals: string[];
}

export function parseArgs(argv: readonly string[], spec: FlagSpec): ParsedArgs {
  const flags: Record<string, string | string[] | boolean | undefined> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const kind = spec[name];
    if (kind === undefined) throw new HostError('USAGE', `unknown option --${name}`);
    if (kind === 'boolean') {
      if (eq >= 0) throw new HostError('USAGE', `--${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined) throw new HostError('USAGE', `--${name} needs a value`);
    if (kind === 'strings') flags[name] = [...((flags[name] as string[] | undefined) ?? []), value];
    else flags[name] = value;
  }
  return { flags, positionals };
}
