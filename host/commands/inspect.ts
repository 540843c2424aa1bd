/**
 * `mcp-warden inspect TARBALL|NAME`: the definition findings, the capabilities and the definitions of a
 * package, WITHOUT running any of its code.
 *
 * Threat: inspecting an untrusted package must not execute it. Only package.json is read and parsed as
 * data: a tarball through the safe tarball reader (host/pack/extract.ts, size caps, no links or special
 * entries), an installed package from the bytes its sealed lock record verifies (host/home/verify-
 * installed.ts). No isolate is created, no entry file is loaded, no signature is trusted or required.
 */
import { open, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { HostError } from '../errors.ts';
import { homeLayout, readLock, resolveHomeDir } from '../home/home.ts';
import type { Home, LockFile } from '../home/home.ts';
import { verifyInstalled } from '../home/verify-installed.ts';
import { printable } from '../install/consent.ts';
import { installedManifest, toolNamesOf } from '../install/conflicts.ts';
import { parsePackageManifest } from '../manifest.ts';
import type { PackageManifest } from '../manifest.ts';
import { readTarball } from '../pack/extract.ts';
import { PACKAGE_LIMITS } from '../pack/limits.ts';
import { checkDefinitions, describeFindings } from '../trust/definitions/checks.ts';
import { definitionsDigest, pinDefinitions } from '../trust/definitions/pin.ts';
import { HOME_OPTION, defineCommand, writeJson } from './cli-support.ts';

export const USAGE = `Usage: mcp-warden inspect TARBALL|NAME [--home DIR] [--json]

Shows a package's tool-definition findings (docs/definition-checks.md), the capabilities it asks for,
and its definitions (tools, prompts, resources, templates: what the model would read), without running
any of its code. TARBALL is read with the safe tarball reader (no signature is needed or checked: use
"mcp-warden verify" for that); NAME is an installed package, read from its verified files. Other
installed packages' tool names are used to find shadowing.

Options:
  --home DIR   home directory (default: $MCP_WARDEN_HOME, else ~/.mcp-warden)
  --json       machine-readable output
  --help       show this help

Exit status: 0 shown (findings or not), 1 the package cannot be read, 2 usage error.
`;

const OPTIONS = { ...HOME_OPTION } as const;

function parseJson(data: Buffer, what: string): PackageManifest {
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch {
    throw new HostError('MANIFEST_INVALID', `${what}: package.json is not valid JSON`);
  }
  return parsePackageManifest(json);
}

async function fromTarball(path: string): Promise<PackageManifest> {
  const fh = await open(path, 'r');
  let data: Buffer;
  try {
    const info = await fh.stat();
    if (!info.isFile() || info.size > PACKAGE_LIMITS.maxTarballBytes) throw new HostError('TARBALL_INVALID', `${path}: not a regular file of at most ${PACKAGE_LIMITS.maxTarballBytes} bytes`);
    data = await fh.readFile();
  } finally {
    await fh.close();
  }
  const pkgJson = readTarball(data).find((f) => f.path === 'package.json');
  if (!pkgJson) throw new HostError('TARBALL_INVALID', 'tarball: has no package/package.json');
  return parseJson(pkgJson.data, path);
}

async function fromInstalled(home: Home, lock: LockFile, name: string): Promise<PackageManifest> {
  const entry = lock.packages[name];
  if (!entry) throw new HostError('NOT_INSTALLED', `${name} is neither a file nor an installed package`);
  const verified = await verifyInstalled({ name, ...entry }, home);
  const pkgJson = verified.files.get('package.json');
  if (!pkgJson) throw new HostError('PACKAGE_INVALID', `${name}: has no package.json`);
  return parseJson(pkgJson, name);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export const run = defineCommand('inspect', USAGE, OPTIONS, async ({ values, positionals }, io, json) => {
  if (positionals.length !== 1) throw new HostError('USAGE', 'expected exactly one tarball or installed package name');
  const arg = positionals[0] as string;
  const home = homeLayout(resolveHomeDir(values.home, io.env, io.cwd));
  const lock = await readLock(home);
  const path = resolve(io.cwd, arg);
  const pm = (await isFile(path)) ? await fromTarball(path) : await fromInstalled(home, lock, arg);
  const otherTools: string[] = [];
  for (const [name, entry] of Object.entries(lock.packages)) {
    if (name === pm.name) continue;
    const other = await installedManifest(home, entry.dir);
    if (other) otherTools.push(...toolNamesOf(other), ...other.manifest.tools.map((t) => t.name));
  }
  const findings = checkDefinitions(pm.manifest, { otherTools });
  const capabilities = pm.manifest.capabilities;
  if (json) {
    writeJson(io, { ok: true, name: pm.name, version: pm.version, findings, capabilities, limits: pm.manifest.limits, definitionsDigest: definitionsDigest(pm.manifest), definitions: pinDefinitions(pm.manifest) });
    return 0;
  }
  const out: string[] = [`${printable(pm.name, 214)}@${printable(pm.version, 64)}`];
  out.push(findings.length === 0 ? 'Findings: none' : `Findings (${findings.length}):\n${describeFindings(findings).trimEnd()}`);
  out.push('Capabilities:');
  const asked = (r: { slot?: string; consent?: string }): string => (r.consent === 'ask' ? ' (asked at first use)' : '');
  for (const r of capabilities.net) out.push(`  network  ${typeof r === 'string' ? printable(r) : `slot ${printable(r.slot, 32)}${asked(r)}${r.description ? `: ${printable(r.description)}` : ''}`}`);
  for (const r of capabilities.fs) out.push(`  files    ${typeof r === 'string' ? printable(r) : `slot ${printable(r.slot, 32)} (${r.access})${asked(r)}${r.description ? `: ${printable(r.description)}` : ''}`}`);
  for (const r of capabilities.ask?.net ?? []) out.push(`  network  ${printable(r.rule)} (asked at first use)${r.description ? `: ${printable(r.description)}` : ''}`);
  for (const r of capabilities.ask?.fs ?? []) out.push(`  files    ${printable(r.rule)} (asked at first use)${r.description ? `: ${printable(r.description)}` : ''}`);
  if (capabilities.net.length + capabilities.fs.length + (capabilities.ask?.net.length ?? 0) + (capabilities.ask?.fs.length ?? 0) === 0) out.push('  no network and no files');
  out.push('Definitions:');
  for (const t of pm.manifest.tools) out.push(`  tool ${printable(t.name, 64)}${t.title ? ` "${printable(t.title, 120)}"` : ''}: ${printable(t.description, 400)}`, `    input: ${printable(JSON.stringify(t.inputSchema), 400)}`);
  for (const p of pm.manifest.prompts) out.push(`  prompt ${printable(p.name, 64)}: ${printable(p.description ?? '', 400)}`);
  for (const r of pm.manifest.resources) out.push(`  resource ${printable(r.name, 64)} <${printable(r.uri, 200)}>: ${printable(r.description ?? '', 400)}`);
  for (const r of pm.manifest.resourceTemplates) out.push(`  template ${printable(r.name, 64)} <${printable(r.uriTemplate, 200)}>: ${printable(r.description ?? '', 400)}`);
  out.push(`Definitions digest: ${definitionsDigest(pm.manifest)}`);
  io.stdout.write(`${out.join('\n')}\n`);
  return 0;
});
