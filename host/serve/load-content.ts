/**
 * Loads what a package serves besides tools: its static resource files and icons (read once, at load),
 * and the names and URIs clients see them under (docs/manifest.md, "Names").
 *
 * Threat: the files are the package author's. An installed package's files come from the verified bytes
 * (host/home/verify-installed.ts: every file of the package matched its digest recorded at install, so a
 * tampered resource file or icon refuses the package with INTEGRITY_MISMATCH before this runs); a --dev
 * package's are resolved inside its directory (symlinks included). Each is size-capped, and icons are
 * served as data: URIs, never as host paths.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Icon } from '@modelcontextprotocol/server';
import { HostError } from '../errors.ts';
import { MANIFEST_KEY, namespacedToolName, servedNamespace } from '../manifest.ts';
import type { PackageManifest } from '../manifest.ts';
import { MAX_ICON_BYTES, MAX_RESOURCE_FILE_BYTES, MAX_RESOURCE_TOTAL_BYTES, mimeTypeOfFile, parseDataIcon } from '../manifest-content.ts';
import type { IconSpec, PromptSpec, ResourceSpec, ResourceTemplateSpec } from '../manifest-content.ts';

/** The scheme of served resource URIs: mcp-warden://<namespace>/<the package's own URI>. */
export const SERVED_URI_SCHEME = 'mcp-warden:';

export interface LoadedResource {
  /** The URI clients read. */
  readonly uri: string;
  readonly spec: ResourceSpec;
  readonly data: Buffer;
  readonly icons?: readonly Icon[];
}

export interface LoadedResourceTemplate {
  /** The URI template clients see (the prefix is literal text, so it is still an RFC 6570 template). */
  readonly uriTemplate: string;
  readonly spec: ResourceTemplateSpec;
  readonly icons?: readonly Icon[];
}

export interface LoadedPrompt {
  /** The client-visible name, <namespace>__<prompt> (or the prompt's own name without the prefix). */
  readonly fullName: string;
  readonly spec: PromptSpec;
  readonly icons?: readonly Icon[];
}

export interface LoadedContent {
  /** The prefix of every URI the package serves ("mcp-warden://<namespace>/"), or "" without the prefix. */
  readonly uriPrefix: string;
  readonly resources: readonly LoadedResource[];
  readonly resourceTemplates: readonly LoadedResourceTemplate[];
  readonly prompts: readonly LoadedPrompt[];
  /** Tool icons as served, by the tool's own name. */
  readonly toolIcons: ReadonlyMap<string, readonly Icon[]>;
}

/** Where a package's files come from: its verified bytes (installed) or its directory (--dev). */
export type FileSource = { readonly verified: ReadonlyMap<string, Buffer> } | { readonly dir: string };

/** The URI prefix of a package's resources. */
export function uriPrefixOf(packageName: string): string {
  return `${SERVED_URI_SCHEME}//${servedNamespace(packageName)}/`;
}

function fileRefusal(rel: string, why: string, field: string, what: string): HostError {
  return new HostError('MANIFEST_INVALID', `${what}: ${field} "${rel.slice(0, 200)}" ${why}`);
}

/**
 * Checks one package file named by the manifest from its size alone (undefined: not a file of the package).
 * @throws HostError MANIFEST_INVALID naming the field
 */
export function checkNamedFileSize(size: number | undefined, rel: string, max: number, field: string, what: string): void {
  if (size === undefined) throw fileRefusal(rel, 'is not a file of the package', field, what);
  if (size > max) throw fileRefusal(rel, `is larger than ${max} bytes`, field, what);
}

/**
 * The files a manifest names for its content (resource files, icons that are not data: URIs), in the order
 * loadContent reads them, each with the field that names it and how it is capped: icons on their own,
 * resource files on their own and within what is left of the package's resource total.
 */
export function namedContentFiles(pm: PackageManifest): { readonly rel: string; readonly field: string; readonly kind: 'icon' | 'resource' }[] {
  const m = pm.manifest;
  const out: { rel: string; field: string; kind: 'icon' | 'resource' }[] = [];
  const icons = (list: readonly IconSpec[] | undefined, at: string): void => {
    list?.forEach((icon, i) => {
      if (!/^data:/i.test(icon.src)) out.push({ rel: icon.src, field: `${at}.icons[${i}].src`, kind: 'icon' });
    });
  };
  m.tools.forEach((t, i) => icons(t.icons, `${MANIFEST_KEY}.tools[${i}]`));
  m.resources.forEach((r, i) => {
    out.push({ rel: r.file, field: `${MANIFEST_KEY}.resources[${i}].file`, kind: 'resource' });
    icons(r.icons, `${MANIFEST_KEY}.resources[${i}]`);
  });
  m.resourceTemplates.forEach((t, i) => icons(t.icons, `${MANIFEST_KEY}.resourceTemplates[${i}]`));
  m.prompts.forEach((p, i) => icons(p.icons, `${MANIFEST_KEY}.prompts[${i}]`));
  return out;
}

/** The cap of a named file, given the bytes of resource files before it. */
function capOf(kind: 'icon' | 'resource', resourceBytesBefore: number): number {
  return kind === 'icon' ? MAX_ICON_BYTES : Math.min(MAX_RESOURCE_FILE_BYTES, MAX_RESOURCE_TOTAL_BYTES - resourceBytesBefore);
}

/**
 * The checks loadContent makes on a package's content files, from the package's file sizes alone, so that
 * `pack` and `install` refuse what `serve` would, before anything is written. Pure.
 * @param sizes package-relative paths of the package's regular files and their sizes
 * @throws HostError MANIFEST_INVALID naming the field
 */
export function checkContentFiles(pm: PackageManifest, sizes: ReadonlyMap<string, number>, what: string): void {
  let total = 0;
  for (const f of namedContentFiles(pm)) {
    const size = sizes.get(f.rel);
    checkNamedFileSize(size, f.rel, capOf(f.kind, total), f.field, what);
    if (f.kind === 'resource') total += size as number;
  }
}

/**
 * Reads one package file named by the manifest, inside the package and at most `max` bytes.
 * @throws HostError MANIFEST_INVALID naming the field
 */
export async function readPackageFile(source: FileSource, rel: string, max: number, field: string, what: string): Promise<Buffer> {
  const fail = (why: string): HostError => fileRefusal(rel, why, field, what);
  if ('verified' in source) {
    const data = source.verified.get(rel);
    checkNamedFileSize(data?.length, rel, max, field, what);
    return data as Buffer;
  }
  let root: string;
  let real: string;
  try {
    [root, real] = await Promise.all([realpath(source.dir), realpath(join(source.dir, rel))]);
  } catch {
    throw fail('is not a file of the package');
  }
  const r = relative(root, real);
  if (r === '' || r === '..' || r.startsWith(`..${sep}`)) throw fail('resolves outside the package');
  const info = await stat(real);
  if (!info.isFile()) throw fail('is not a file');
  if (info.size > max) throw fail(`is larger than ${max} bytes`);
  const data = await readFile(real);
  // It may have grown between stat and read.
  if (data.length > max) throw fail(`is larger than ${max} bytes`);
  return data;
}

async function loadIcons(source: FileSource, icons: readonly IconSpec[] | undefined, at: string, what: string): Promise<Icon[] | undefined> {
  if (!icons || icons.length === 0) return undefined;
  const out: Icon[] = [];
  for (const [i, icon] of icons.entries()) {
    const field = `${at}.icons[${i}].src`;
    let src: string;
    let mimeType: string;
    const inline = parseDataIcon(icon.src, field);
    if (inline) {
      ({ mimeType } = inline);
      src = `data:${mimeType};base64,${inline.data.toString('base64')}`;
    } else {
      mimeType = icon.mimeType ?? (mimeTypeOfFile(icon.src) as string);
      const data = await readPackageFile(source, icon.src, MAX_ICON_BYTES, field, what);
      src = `data:${mimeType};base64,${data.toString('base64')}`;
    }
    out.push({ src, mimeType, ...(icon.sizes ? { sizes: [...icon.sizes] } : {}), ...(icon.theme ? { theme: icon.theme } : {}) });
  }
  return out;
}

/**
 * Loads a package's resources, templates, prompts and icons.
 * @param prefix false: names and URIs are the package's own (serve --no-prefix, one package only).
 */
export async function loadContent(pm: PackageManifest, source: FileSource, prefix: boolean, what: string): Promise<LoadedContent> {
  const m = pm.manifest;
  const uriPrefix = prefix ? uriPrefixOf(pm.name) : '';
  const toolIcons = new Map<string, readonly Icon[]>();
  for (const [i, t] of m.tools.entries()) {
    const icons = await loadIcons(source, t.icons, `${MANIFEST_KEY}.tools[${i}]`, what);
    if (icons) toolIcons.set(t.name, icons);
  }
  const resources: LoadedResource[] = [];
  let total = 0;
  for (const [i, spec] of m.resources.entries()) {
    const at = `${MANIFEST_KEY}.resources[${i}]`;
    const data = await readPackageFile(source, spec.file, capOf('resource', total), `${at}.file`, what);
    total += data.length;
    const icons = await loadIcons(source, spec.icons, at, what);
    resources.push({ uri: uriPrefix + spec.uri, spec, data, ...(icons ? { icons } : {}) });
  }
  const resourceTemplates: LoadedResourceTemplate[] = [];
  for (const [i, spec] of m.resourceTemplates.entries()) {
    const icons = await loadIcons(source, spec.icons, `${MANIFEST_KEY}.resourceTemplates[${i}]`, what);
    resourceTemplates.push({ uriTemplate: uriPrefix + spec.uriTemplate, spec, ...(icons ? { icons } : {}) });
  }
  const prompts: LoadedPrompt[] = [];
  for (const [i, spec] of m.prompts.entries()) {
    const icons = await loadIcons(source, spec.icons, `${MANIFEST_KEY}.prompts[${i}]`, what);
    prompts.push({ fullName: prefix ? namespacedToolName(pm.name, spec.name) : spec.name, spec, ...(icons ? { icons } : {}) });
  }
  return { uriPrefix, resources, resourceTemplates, prompts, toolIcons };
}
