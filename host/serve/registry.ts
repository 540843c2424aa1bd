/**
 * The set of served tools: namespaced names → (package, tool), and the tools/list answer, computed once
 * per change in a deterministic order (by namespaced name) so clients and caches see a stable list.
 */
import type { Tool } from '@modelcontextprotocol/server';
import type { LoadedPackage, LoadedTool } from './loader.ts';

export interface ToolEntry {
  readonly pkg: LoadedPackage;
  readonly tool: LoadedTool;
}

export interface Registry {
  lookup(name: string): ToolEntry | undefined;
  list(): Tool[];
  packages(): readonly LoadedPackage[];
  /** Replaces the served packages; true when the tools/list answer changed. */
  replace(packages: readonly LoadedPackage[]): boolean;
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
    _meta: { 'dev.mcp-warden/package': { name: pkg.name, version: pkg.version, origin: pkg.origin } },
  };
}

export function createRegistry(initial: readonly LoadedPackage[] = []): Registry {
  let byName = new Map<string, ToolEntry>();
  let listed: Tool[] = [];
  let listedText = '';
  let current: readonly LoadedPackage[] = [];
  const replace = (packages: readonly LoadedPackage[]): boolean => {
    const next = new Map<string, ToolEntry>();
    // A name claimed twice is served by neither (the loader refuses and reports such packages first):
    // never resolved by order.
    const claimed = new Set<string>();
    const twice = new Set<string>();
    for (const pkg of packages) for (const tool of pkg.tools) (claimed.has(tool.fullName) ? twice : claimed).add(tool.fullName);
    for (const pkg of packages) for (const tool of pkg.tools) if (!twice.has(tool.fullName)) next.set(tool.fullName, { pkg, tool });
    const names = [...next.keys()].sort();
    const nextList = names.map((n) => {
      const e = next.get(n) as ToolEntry;
      return describe(e.pkg, e.tool);
    });
    const text = JSON.stringify(nextList);
    const changed = text !== listedText;
    byName = next;
    listed = nextList;
    listedText = text;
    current = packages;
    return changed;
  };
  replace(initial);
  return {
    lookup: (name) => byName.get(name),
    list: () => structuredClone(listed),
    packages: () => current,
    replace,
  };
}
