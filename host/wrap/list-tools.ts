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

/** @throws HostError PACKAGE_INVALID when the server does not start or list its tools in the sandbox */
export async function listServerTools(source: string, slots: readonly string[], limits: Limits): Promise<ToolSpec[]> {
  const base = await mkdtemp(join(tmpdir(), 'mcp-warden-wrap-'));
  const sandbox = createSandbox({ workers: 1 });
  try {
    const paths: Record<string, string> = {};
    for (const slot of slots) paths[slot] = join(base, slot);
    const { mkdir } = await import('node:fs/promises');
    for (const p of Object.values(paths)) await mkdir(p);
    const pkg = { id: `wrap-probe#${Date.now()}`, name: 'wrap-probe', source, paths };
    const grant = { net: parseNetGrant([]), fs: parseFsGrant(Object.values(paths).map((p) => `write:${p}`)) };
    const tools: ToolSpec[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const run = await sandbox.run(pkg, SERVER_ENTRY_HANDLER, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: cursor === undefined ? {} : { cursor } }, grant, { ...DEFAULT_LIMITS, ...limits }, { kind: 'rpc' });
      const answer = run.value as { result?: { tools?: unknown; nextCursor?: unknown }; error?: { message?: unknown } } | null;
      if (answer?.error !== undefined) throw new HostError('PACKAGE_INVALID', `the server refused tools/list in the sandbox: ${String(answer.error?.message).slice(0, 300)}`);
      const list = answer?.result?.tools;
      if (!Array.isArray(list)) throw new HostError('PACKAGE_INVALID', 'the server answered tools/list without a list of tools');
      for (const t of list) if (t !== null && typeof t === 'object') tools.push(toolSpecOf(t as Record<string, unknown>));
      cursor = typeof answer?.result?.nextCursor === 'string' ? answer.result.nextCursor : undefined;
      if (cursor === undefined) break;
    }
    return tools;
  } catch (e) {
    if (e instanceof HostError) throw e;
    const why = isSandboxError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    throw new HostError('PACKAGE_INVALID', `the server does not start in the sandbox: ${why.slice(0, 500)}`);
  } finally {
    await sandbox.close();
    await rm(base, { recursive: true, force: true });
  }
}
