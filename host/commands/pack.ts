/** `mcp-warden pack PKG_DIR [--out DIR]`: a reproducible npm-compatible tarball and its SRI integrity. */
import { resolve } from 'node:path';
import { HostError } from '../errors.ts';
import { pack } from '../pack/pack.ts';
import { defineCommand, writeJson } from './cli-support.ts';

export const USAGE = `Usage: mcp-warden pack PKG_DIR [--out DIR] [--json]

Packs a tool package directory into DIR/<name>-<version>.tgz (npm layout, byte-for-byte reproducible)
and prints its integrity (sha512 SRI). Included: package.json, the manifest's entry file, README and
LICENSE files, and the files and directories listed in package.json "files".

Options:
  --out DIR   where to write the tarball (default: the current directory)
  --json      machine-readable output
  --help      show this help
`;

const OPTIONS = { out: { type: 'string' } } as const;

export const run = defineCommand('pack', USAGE, OPTIONS, async ({ values, positionals }, io, json) => {
  if (positionals.length !== 1) throw new HostError('USAGE', 'expected exactly one package directory');
  const r = await pack(resolve(io.cwd, positionals[0] as string), resolve(io.cwd, values.out ?? '.'));
  if (json) writeJson(io, { ok: true, ...r });
  else io.stdout.write(`${r.name}@${r.version}\n  file:      ${r.file}\n  integrity: ${r.integrity}\n  size:      ${r.size} bytes, ${r.files.length} files\n`);
  return 0;
});
