/**
 * The set of served tools, prompts and resources: client-visible names and URIs → (package, item), and
 * the list answers, computed once per change in a deterministic order (by name or URI) so clients and
 * caches see stable lists.
 *
 * Threat: a URI a client reads is untrusted. With the prefix, it reaches only the package whose
 * "mcp-warden://<namespace>/" it starts with (the namespace has no "/"), and that package's own URI is
 * what is left; a name or URI space claimed by two packages is served by neither.
 */
import type { Prompt, Resource, ResourceTemplateType as ResourceTemplate, Tool } from '@modelcontextprotocol/server';
import type { LoadedPackage, LoadedTool } from './loader.ts';
import { servedClaims } from './loader.ts';
import type { LoadedPrompt, LoadedResource, LoadedResourceTemplate } from './load-content.ts';
import type { TemplateValues } from './features/uri-template.ts';

export interface ToolEntry {
  readonly pkg: LoadedPackage;
  readonly tool: LoadedTool;
}

export interface PromptEntry {
  readonly pkg: LoadedPackage;
  readonly prompt: LoadedPrompt;
}

/** What a served URI is: a static resource, or a template's match, of one package. */
export type UriEntry =
  | { readonly pkg: LoadedPackage; readonly ownUri: string; readonly resource: LoadedResource }
  | { readonly pkg: LoadedPackage; readonly ownUri: string; readonly template: LoadedResourceTemplate; readonly variables: TemplateValues };

/** Which lists the last replace changed. */
export interface ListChanges {
  readonly tools: boolean;
  readonly resources: boolean;
  readonly prompts: boolean;
}

export interface Registry {
  lookup(name: string): ToolEntry | undefined;
  list(): Tool[];
  /** How many tools are served (list().length, without copying the list). */
  size(): number;
  lookupPrompt(name: string): PromptEntry | undefined;
  listPrompts(): Prompt[];
  listResources(): Resource[];
  listResourceTemplates(): ResourceTemplate[];
  /** The served resource template whose client-visible URI template is `uriTemplate` (completion refs). */
  lookupTemplate(uriTemplate: string): { readonly pkg: LoadedPackage; readonly template: LoadedResourceTemplate } | undefined;
  /** The package and item serving `uri`, or undefined. */
  resolveUri(uri: string): UriEntry | undefined;
  packages(): readonly LoadedPackage[];
  /** Replaces the served packages; true when any list answer (tools, prompts, resources) changed. */
  replace(packages: readonly LoadedPackage[]): boolean;
  /** Which lists the last replace changed (for listChanged notifications). */
  lastChanges(): ListChanges;
}

const PACKAGE_META = 'dev.mcp-warden/package';

function packageMeta(pkg: LoadedPackage): Record<string, unknown> {
  return { [PACKAGE_META]: { name: pkg.name, version: pkg.version, origin: pkg.origin } };
}

function describe(pkg: LoadedPackage, t: LoadedTool): Tool {
  const { spec } = t;
  return {
    name: t.fullName,
    ...(spec.title !== undefined ? { title: spec.title } : {}),
    description: spec.description,
    inputSchema: spec.inputSchema as Tool['inputSchema'],
    ...(spec.outputSchema !== undefined ? { outputSchema: spec.outputSchema as Tool['outputSchema'] } : {}),
    ...(spec.annotations !== undefined ? { annotations: spec.annotations } : {}),
    ...(t.icons ? { icons: t.icons.map((i) => ({ ...i })) as Tool['icons'] } : {}),
    _meta: packageMeta(pkg),
  };
}

function describeResource(pkg: LoadedPackage, r: LoadedResource): Resource {
  const { spec } = r;
  return {
    uri: r.uri,
    name: spec.name,
    ...(spec.title !== undefined ? { title: spec.title } : {}),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    mimeType: spec.mimeType,
    size: r.data.length,
    ...(r.icons ? { icons: r.icons.map((i) => ({ ...i })) } : {}),
    _meta: packageMeta(pkg),
  };
}

function describeTemplate(pkg: LoadedPackage, t: LoadedResourceTemplate): ResourceTemplate {
  const { spec } = t;
  return {
    uriTemplate: t.uriTemplate,
    name: spec.name,
    ...(spec.title !== undefined ? { title: spec.title } : {}),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    ...(spec.mimeType !== undefined ? { mimeType: spec.mimeType } : {}),
    ...(t.icons ? { icons: t.icons.map((i) => ({ ...i })) } : {}),
    _meta: packageMeta(pkg),
  };
}

function describePrompt(pkg: LoadedPackage, p: LoadedPrompt): Prompt {
  const { spec } = p;
  return {
    name: p.fullName,
    ...(spec.title !== undefined ? { title: spec.title } : {}),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    arguments: spec.arguments.map((a) => ({
      name: a.name,
      ...(a.title !== undefined ? { title: a.title } : {}),
      ...(a.description !== undefined ? { description: a.description } : {}),
      ...(a.required !== undefined ? { required: a.required } : {}),
    })),
    ...(p.icons ? { icons: p.icons.map((i) => ({ ...i })) } : {}),
    _meta: packageMeta(pkg),
  };
}

const byKey = <T>(key: (t: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

/** The package's own URI of `uri` if the package serves under a prefix `uri` starts with. */
function ownUriOf(pkg: LoadedPackage, uri: string): string | undefined {
  if (pkg.uriPrefix === '') return uri;
  return uri.startsWith(pkg.uriPrefix) ? uri.slice(pkg.uriPrefix.length) : undefined;
}

function matchIn(pkg: LoadedPackage, ownUri: string): UriEntry | undefined {
  const resource = pkg.resources.find((r) => r.spec.uri === ownUri);
  if (resource) return { pkg, ownUri, resource };
  for (const template of pkg.resourceTemplates) {
    const variables = template.spec.template.match(ownUri);
    if (variables) return { pkg, ownUri, template, variables };
  }
  return undefined;
}

/** Whether two list answers differ (as the client would see them). */
function differs(before: readonly unknown[], after: readonly unknown[]): boolean {
  return before.length !== after.length || JSON.stringify(before) !== JSON.stringify(after);
}

export function createRegistry(initial: readonly LoadedPackage[] = []): Registry {
  let byName = new Map<string, ToolEntry>();
  let prompts = new Map<string, PromptEntry>();
  // URI owners, in package-name order: with the prefix at most one package can match a URI.
  let uriOwners: LoadedPackage[] = [];
  let listed: Tool[] = [];
  let promptList: Prompt[] = [];
  let resourceList: Resource[] = [];
  let templateList: ResourceTemplate[] = [];
  let changes: ListChanges = { tools: false, resources: false, prompts: false };
  let current: readonly LoadedPackage[] = [];

  const replace = (packages: readonly LoadedPackage[]): boolean => {
    // A name or URI space claimed twice is served by neither (the loader refuses and reports such
    // packages first): never resolved by order.
    const claimed = new Set<string>();
    const twice = new Set<string>();
    for (const pkg of packages) for (const c of servedClaims(pkg)) (claimed.has(c.key) ? twice : claimed).add(c.key);
    const nextTools = new Map<string, ToolEntry>();
    const nextPrompts = new Map<string, PromptEntry>();
    const owners: LoadedPackage[] = [];
    for (const pkg of packages) {
      for (const tool of pkg.tools) if (!twice.has(`tool:${tool.fullName}`)) nextTools.set(tool.fullName, { pkg, tool });
      for (const prompt of pkg.prompts) if (!twice.has(`prompt:${prompt.fullName}`)) nextPrompts.set(prompt.fullName, { pkg, prompt });
      const uriClaims = servedClaims(pkg).filter((c) => c.kind === 'uri');
      if (uriClaims.length > 0 && uriClaims.every((c) => !twice.has(c.key))) owners.push(pkg);
    }
    owners.sort(byKey((p) => p.name));
    const nextList = [...nextTools.keys()].sort().map((n) => {
      const e = nextTools.get(n) as ToolEntry;
      return describe(e.pkg, e.tool);
    });
    const nextPromptList = [...nextPrompts.keys()].sort().map((n) => {
      const e = nextPrompts.get(n) as PromptEntry;
      return describePrompt(e.pkg, e.prompt);
    });
    const nextResources = owners.flatMap((pkg) => pkg.resources.map((r) => describeResource(pkg, r))).sort(byKey((r) => r.uri));
    const nextTemplates = owners.flatMap((pkg) => pkg.resourceTemplates.map((t) => describeTemplate(pkg, t))).sort(byKey((t) => t.uriTemplate));
    // Compared as JSON text, only when the lengths are equal (a first load, from nothing, needs no text).
    changes = {
      tools: differs(listed, nextList),
      prompts: differs(promptList, nextPromptList),
      resources: differs(resourceList, nextResources) || differs(templateList, nextTemplates),
    };
    byName = nextTools;
    prompts = nextPrompts;
    uriOwners = owners;
    listed = nextList;
    promptList = nextPromptList;
    resourceList = nextResources;
    templateList = nextTemplates;
    current = packages;
    return changes.tools || changes.prompts || changes.resources;
  };
  replace(initial);
  changes = { tools: false, resources: false, prompts: false };
  return {
    lookup: (name) => byName.get(name),
    list: () => structuredClone(listed),
    size: () => listed.length,
    lookupPrompt: (name) => prompts.get(name),
    listPrompts: () => structuredClone(promptList),
    listResources: () => structuredClone(resourceList),
    listResourceTemplates: () => structuredClone(templateList),
    lookupTemplate: (uriTemplate) => {
      for (const pkg of uriOwners) {
        const template = pkg.resourceTemplates.find((t) => t.uriTemplate === uriTemplate);
        if (template) return { pkg, template };
      }
      return undefined;
    },
    resolveUri: (uri) => {
      if (typeof uri !== 'string') return undefined;
      for (const pkg of uriOwners) {
        const own = ownUriOf(pkg, uri);
        if (own === undefined) continue;
        const hit = matchIn(pkg, own);
        // With the prefix, the URI belongs to this package alone: no other package is tried.
        if (hit || pkg.uriPrefix !== '') return hit;
      }
      return undefined;
    },
    packages: () => current,
    replace,
    lastChanges: () => changes,
  };
}
