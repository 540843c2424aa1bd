/**
 * The tools a wrapped server serves, asked of the server itself running in the sandbox (never on the
 * host): each fs slot granted a fresh empty directory, no network, the package's limits. What it answers
 * becomes the manifest's tool definitions, so install shows them, checks them for poisoning and pins them
 * like any package's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIMITS, SERVER_ENTRY_HANDLER, createSandbox, isSandboxError, parseFsGrant, parseNetGrant } from '../../runtime/index.ts';
import type { Limits } from '../../runtime/index.ts';
import { HostError } from '../errors.ts';
import type { ToolSpec } from '../manifest.ts';
import type { PromptArgumentSpec, PromptSpec } from '../manifest-content.ts';

/** A manifest resource template as written in package.json (the loader parses its template). */
export interface ManifestResourceTemplate {
  readonly name: string;
  readonly uriTemplate: string;
  readonly handler: string;
  readonly mimeType?: string;
  readonly title?: string;
  readonly description?: string;
}

const ANNOTATION_KEYS = ['title', 'readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const;

function schemaOf(s: unknown): ToolSpec['inputSchema'] | undefined {
  if (s === null || typeof s !== 'object' || Array.isArray(s)) return undefined;
  const { $schema: _dropped, ...rest } = s as Record<string, unknown>;
  return { ...rest, type: 'object' } as ToolSpec['inputSchema'];
}

/** One tool of tools/list as a manifest ToolSpec. */
export function toolSpecOf(t: Record<string, unknown>): ToolSpec {
  const name = String(t.name);
  const annotations: Record<string, unknown> = {};
  const a = t.annotations as Record<string, unknown> | undefined;
  if (a !== null && typeof a === 'object') for (const k of ANNOTATION_KEYS) if (a[k] !== undefined) annotations[k] = a[k];
  const output = schemaOf(t.outputSchema);
  return {
    name,
    ...(typeof t.title === 'string' ? { title: t.title } : {}),
    description: typeof t.description === 'string' && t.description !== '' ? t.description : typeof t.title === 'string' ? t.title : name,
    inputSchema: schemaOf(t.inputSchema) ?? { type: 'object' },
    ...(output !== undefined ? { outputSchema: output } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const ARGUMENT = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;

/**
 * One prompt of prompts/list as a manifest prompt produced by a handler (forwarding prompts/get), or
 * undefined when its name or an argument's cannot be a manifest's (such a prompt is not served).
 */
export function promptSpecOf(p: Record<string, unknown>): PromptSpec | undefined {
  const name = String(p.name);
  if (!NAME.test(name)) return undefined;
  const args: PromptArgumentSpec[] = [];
  for (const a of Array.isArray(p.arguments) ? (p.arguments as Array<Record<string, unknown>>) : []) {
    if (a === null || typeof a !== 'object' || typeof a.name !== 'string' || !ARGUMENT.test(a.name)) return undefined;
    args.push({ name: a.name, ...(typeof a.description === 'string' && a.description !== '' ? { description: a.description.slice(0, 2000) } : {}), ...(a.required === true ? { required: true } : {}) });
  }
  return {
    name,
    ...(typeof p.title === 'string' ? { title: p.title.slice(0, 200) } : {}),
    ...(typeof p.description === 'string' && p.description !== '' ? { description: p.description.slice(0, 8192) } : {}),
    arguments: args,
    handler: name,
  };
}

export interface ServerListing {
  readonly tools: ToolSpec[];
  readonly prompts: PromptSpec[];
  /** The server's resource templates, read by the handler "read" (its fixed resources are not served yet). */
  readonly resourceTemplates: ManifestResourceTemplate[];
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]{0,31}:/;
const MIME = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/**
 * The server's resource templates as manifest resource templates read by the handler "read" (names made
 * unique and valid); what cannot be one (no scheme, too long, too many) is left out. Its fixed resources
 * (resources/list) are not served: a manifest's fixed resources are files of the package.
 */
export function resourceTemplatesOf(resources: ReadonlyArray<Record<string, unknown>>, templates: ReadonlyArray<Record<string, unknown>>): ManifestResourceTemplate[] {
  const out: ManifestResourceTemplate[] = [];
  const names = new Set<string>();
  const add = (r: Record<string, unknown>, uriTemplate: unknown) => {
    if (typeof uriTemplate !== 'string' || uriTemplate.length < 3 || uriTemplate.length > 1024 || !SCHEME.test(uriTemplate) || out.length >= 128) return;
    const base = String(r.name ?? 'resource').replace(/[^A-Za-z0-9_-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 56) || 'resource';
    let name = base;
    for (let i = 2; names.has(name); i++) name = `${base}-${i}`;
    names.add(name);
    out.push({
      name, uriTemplate, handler: 'read',
      ...(typeof r.mimeType === 'string' && MIME.test(r.mimeType) ? { mimeType: r.mimeType } : {}),
      ...(typeof r.title === 'string' && r.title !== '' ? { title: r.title.slice(0, 200) } : {}),
      ...(typeof r.description === 'string' && r.description !== '' ? { description: r.description.slice(0, 8192) } : {}),
    });
  };
  for (const t of templates) add(t, t.uriTemplate);
  // A fixed resource would need a template with a variable (a manifest's fixed resources are files): not served yet.
  void resources;
  return out;
}

/** @throws HostError PACKAGE_INVALID when the server does not start or list its tools in the sandbox */
export async function listServerTools(source: string, slots: readonly string[], limits: Limits): Promise<ServerListing> {
  const base = await mkdtemp(join(tmpdir(), 'mcp-warden-wrap-'));
  const sandbox = createSandbox({ workers: 1 });
  try {
    const paths: Record<string, string> = {};
    for (const slot of slots) paths[slot] = join(base, slot);
    const { mkdir } = await import('node:fs/promises');
    for (const p of Object.values(paths)) await mkdir(p);
    const pkg = { id: `wrap-probe#${Date.now()}`, name: 'wrap-probe', source, paths };
    const grant = { net: parseNetGrant([]), fs: parseFsGrant(Object.values(paths).map((p) => `write:${p}`)) };
    /** Every page of a list method; undefined when the server does not serve it. */
    const listAll = async (method: string, key: string): Promise<Array<Record<string, unknown>> | undefined> => {
      const out: Array<Record<string, unknown>> = [];
      let cursor: string | undefined;
      for (let page = 0; page < 100; page++) {
        const run = await sandbox.run(pkg, SERVER_ENTRY_HANDLER, { jsonrpc: '2.0', id: 1, method, params: cursor === undefined ? {} : { cursor } }, grant, { ...DEFAULT_LIMITS, ...limits }, { kind: 'rpc' });
        const answer = run.value as { result?: Record<string, unknown>; error?: { message?: unknown } } | null;
        if (answer?.error !== undefined) {
          if (method !== 'tools/list') return undefined;
          throw new HostError('PACKAGE_INVALID', `the server refused ${method} in the sandbox: ${String(answer.error?.message).slice(0, 300)}`);
        }
        const list = answer?.result?.[key];
        if (!Array.isArray(list)) throw new HostError('PACKAGE_INVALID', `the server answered ${method} without a list of ${key}`);
        for (const t of list) if (t !== null && typeof t === 'object') out.push(t as Record<string, unknown>);
        cursor = typeof answer?.result?.nextCursor === 'string' ? answer.result.nextCursor : undefined;
        if (cursor === undefined) break;
      }
      return out;
    };
    const tools = ((await listAll('tools/list', 'tools')) ?? []).map(toolSpecOf);
    const prompts = ((await listAll('prompts/list', 'prompts')) ?? []).map(promptSpecOf).filter((p): p is PromptSpec => p !== undefined);
    const resourceTemplates = resourceTemplatesOf((await listAll('resources/list', 'resources')) ?? [], (await listAll('resources/templates/list', 'resourceTemplates')) ?? []);
    return { tools, prompts, resourceTemplates };
  } catch (e) {
    if (e instanceof HostError) throw e;
    const why = isSandboxError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    throw new HostError('PACKAGE_INVALID', `the server does not start in the sandbox: ${why.slice(0, 500)}`);
  } finally {
    await sandbox.close();
    await rm(base, { recursive: true, force: true });
  }
}
