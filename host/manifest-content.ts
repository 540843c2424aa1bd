/**
 * What a package serves besides tools (docs/manifest.md, "Resources", "Prompts", "Icons"): resources,
 * resource templates and prompts, checked past what the JSON Schema can say. Pure: the files they name
 * are read by the loader.
 *
 * Threat: the manifest is the author's. A file or icon path must stay inside the package (no "." or ".."
 * segments; the loader also resolves it inside), a data: icon is bounded, a URI template is parsed by a
 * bounded parser (host/serve/features/uri-template.ts), and a static prompt's placeholders must name
 * declared arguments (the host fills them in one pass, never by evaluation).
 */
import { HostError } from './errors.ts';
import { parseUriTemplate } from './serve/features/uri-template.ts';
import type { UriTemplate } from './serve/features/uri-template.ts';

/** Largest icon (a package file or a data: URI's decoded bytes). */
export const MAX_ICON_BYTES = 64 * 1024;
/** Largest static resource file. */
export const MAX_RESOURCE_FILE_BYTES = 4 * 1024 * 1024;
/** Most bytes of static resource files one package may serve (they are held in memory while served). */
export const MAX_RESOURCE_TOTAL_BYTES = 32 * 1024 * 1024;
/** Largest resource read (the sum of its contents' text and blob bytes). */
export const MAX_RESOURCE_READ_BYTES = 8 * 1024 * 1024;

export interface IconSpec {
  /** A package file path, or a data: URI. */
  readonly src: string;
  readonly mimeType?: string;
  readonly sizes?: readonly string[];
  readonly theme?: 'light' | 'dark';
}

/** Completion values: a static list, or a handler in the entry's `completions` export. */
export type CompletionSpec = readonly string[] | { readonly handler: string };

export interface ResourceSpec {
  readonly name: string;
  readonly uri: string;
  readonly file: string;
  readonly mimeType: string;
  readonly title?: string;
  readonly description?: string;
  readonly icons?: readonly IconSpec[];
}

export interface ResourceTemplateSpec {
  readonly name: string;
  readonly uriTemplate: string;
  /** Parsed once, at load. */
  readonly template: UriTemplate;
  readonly handler: string;
  readonly mimeType?: string;
  readonly title?: string;
  readonly description?: string;
  readonly icons?: readonly IconSpec[];
  readonly complete?: Readonly<Record<string, CompletionSpec>>;
}

export interface PromptArgumentSpec {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly required?: boolean;
  readonly complete?: CompletionSpec;
}

export interface PromptMessageSpec {
  readonly role: 'user' | 'assistant';
  readonly text: string;
}

export interface PromptSpec {
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly icons?: readonly IconSpec[];
  readonly arguments: readonly PromptArgumentSpec[];
  /** A static prompt's messages; absent when a handler produces them. */
  readonly messages?: readonly PromptMessageSpec[];
  readonly handler?: string;
}

export interface ContentSpecs {
  readonly resources: readonly ResourceSpec[];
  readonly resourceTemplates: readonly ResourceTemplateSpec[];
  readonly prompts: readonly PromptSpec[];
}

/** A placeholder of a static prompt message: {{name}}. */
export const PLACEHOLDER = /\{\{([A-Za-z0-9_][A-Za-z0-9_-]{0,63})\}\}/g;

const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  txt: 'text/plain',
  md: 'text/markdown',
  html: 'text/html',
  csv: 'text/csv',
  json: 'application/json',
  xml: 'application/xml',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
};
const ICON_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);

/** The MIME type of a file from its extension, when the manifest gives none. */
export function mimeTypeOfFile(path: string): string | undefined {
  const dot = path.lastIndexOf('.');
  return dot < 0 ? undefined : MIME_BY_EXTENSION[path.slice(dot + 1).toLowerCase()];
}

/** True when content of this MIME type is served as text (else as a base64 blob). */
export function isTextMimeType(mimeType: string): boolean {
  const t = mimeType.toLowerCase();
  return t.startsWith('text/') || t === 'application/json' || t === 'application/xml' || t === 'application/yaml' || t === 'application/javascript' || t.endsWith('+json') || t.endsWith('+xml');
}

function invalid(field: string, why: string): HostError {
  return new HostError('MANIFEST_INVALID', `${field} ${why}`);
}

/** A package-relative path must not climb out: no ".", ".." or empty segments. */
export function checkPackagePath(path: string, field: string): void {
  if (path.split('/').some((seg) => seg === '..' || seg === '.' || seg === '')) throw invalid(field, 'must be a relative path inside the package, without "." or ".." segments');
}

/** A data: icon's MIME type and decoded bytes, or undefined when `src` is not a data: URI. */
export function parseDataIcon(src: string, field: string): { mimeType: string; data: Buffer } | undefined {
  if (!/^data:/i.test(src)) return undefined;
  const m = /^data:([a-z]+\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/]*={0,2})$/i.exec(src);
  if (!m) throw invalid(field, 'must be a base64 data: URI ("data:image/png;base64,…")');
  const mimeType = (m[1] as string).toLowerCase();
  if (!ICON_TYPES.has(mimeType)) throw invalid(field, `has the type ${mimeType}; icons are image/png, image/jpeg, image/webp or image/gif (SVG can carry script)`);
  const data = Buffer.from(m[2] as string, 'base64');
  if (data.length > MAX_ICON_BYTES) throw invalid(field, `is larger than ${MAX_ICON_BYTES} bytes`);
  return { mimeType, data };
}

function checkIcons(icons: readonly IconSpec[] | undefined, at: string): void {
  icons?.forEach((icon, i) => {
    const field = `${at}.icons[${i}].src`;
    const data = parseDataIcon(icon.src, field);
    if (data) {
      if (icon.mimeType !== undefined && icon.mimeType !== data.mimeType) throw invalid(`${at}.icons[${i}].mimeType`, 'differs from the data: URI\'s type');
      return;
    }
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._/-]{0,255}$/.test(icon.src)) throw invalid(field, 'must be a package file path or a data: URI');
    checkPackagePath(icon.src, field);
    const type = icon.mimeType ?? mimeTypeOfFile(icon.src);
    if (type === undefined || !ICON_TYPES.has(type)) throw invalid(field, 'must be a .png, .jpg, .webp or .gif file, or give its mimeType');
  });
}

function checkUnique(items: readonly { name: string }[], at: string): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.name)) throw invalid(`${at}[${i}].name`, `"${item.name}" is declared twice`);
    seen.add(item.name);
  });
}

type RawResource = Omit<ResourceSpec, 'mimeType'> & { mimeType?: string };
type RawTemplate = Omit<ResourceTemplateSpec, 'template'>;
type RawPrompt = Omit<PromptSpec, 'arguments'> & { arguments?: PromptArgumentSpec[] };

/**
 * Checks and types the content sections of a schema-valid manifest section.
 * @throws HostError MANIFEST_INVALID naming the field.
 */
export function parseContent(raw: { resources?: RawResource[]; resourceTemplates?: RawTemplate[]; prompts?: RawPrompt[]; tools: { icons?: IconSpec[] }[] }, key: string): ContentSpecs {
  raw.tools.forEach((t, i) => checkIcons(t.icons, `${key}.tools[${i}]`));

  const rs = raw.resources ?? [];
  checkUnique(rs, `${key}.resources`);
  const uris = new Set<string>();
  const resources = rs.map((r, i): ResourceSpec => {
    const at = `${key}.resources[${i}]`;
    if (uris.has(r.uri)) throw invalid(`${at}.uri`, `"${r.uri.slice(0, 200)}" is declared twice`);
    uris.add(r.uri);
    checkPackagePath(r.file, `${at}.file`);
    checkIcons(r.icons, at);
    return { ...r, mimeType: r.mimeType ?? mimeTypeOfFile(r.file) ?? 'application/octet-stream' };
  });

  const ts = raw.resourceTemplates ?? [];
  checkUnique(ts, `${key}.resourceTemplates`);
  const resourceTemplates = ts.map((t, i): ResourceTemplateSpec => {
    const at = `${key}.resourceTemplates[${i}]`;
    let template: UriTemplate;
    try {
      template = parseUriTemplate(t.uriTemplate);
    } catch (e) {
      throw invalid(`${at}.uriTemplate`, `is not a valid RFC 6570 URI template: it ${e instanceof Error ? e.message : 'is malformed'}`);
    }
    if (template.variables.length === 0) throw invalid(`${at}.uriTemplate`, 'has no variables (declare a fixed URI under "resources")');
    for (const v of Object.keys(t.complete ?? {})) if (!template.variables.includes(v)) throw invalid(`${at}.complete`, `names "${v}", which is not a variable of the template`);
    checkIcons(t.icons, at);
    return { ...t, template };
  });

  const ps = raw.prompts ?? [];
  checkUnique(ps, `${key}.prompts`);
  const prompts = ps.map((p, i): PromptSpec => {
    const at = `${key}.prompts[${i}]`;
    if (p.name.includes('__')) throw invalid(`${at}.name`, 'must not contain "__" (it separates the namespace)');
    if ((p.messages === undefined) === (p.handler === undefined)) throw invalid(at, 'must have exactly one of "messages" (a static prompt) and "handler"');
    const args = p.arguments ?? [];
    checkUnique(args, `${at}.arguments`);
    const declared = new Set(args.map((a) => a.name));
    p.messages?.forEach((m, j) => {
      for (const match of m.text.matchAll(PLACEHOLDER)) {
        if (!declared.has(match[1] as string)) throw invalid(`${at}.messages[${j}].text`, `uses the placeholder {{${match[1]}}}, which is not a declared argument`);
      }
    });
    checkIcons(p.icons, at);
    return { ...p, arguments: args };
  });
  return { resources, resourceTemplates, prompts };
}
