/**
 * Pinned definitions: the exact tool, prompt, resource and template definitions a user consented to,
 * as canonical JSON, and their digest (recorded in the sealed lock entry by install, compared by serve:
 * host/serve/loader.ts), and a readable diff between two versions' definitions for the update prompt.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../canonical-json.ts';
import type { Definitions } from './texts.ts';

type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };

function clean(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}

/** Kind → definition name → what the model sees of it. */
export type PinnedDefinitions = Readonly<Record<'tools' | 'prompts' | 'resources' | 'resourceTemplates', Readonly<Record<string, Json>>>>;

/** The model-facing part of each definition (no icons, files or handlers: those are pinned by file digests). */
export function pinDefinitions(defs: Definitions): PinnedDefinitions {
  const by = <T extends { name: string }>(items: readonly T[], pick: (t: T) => unknown): Record<string, Json> =>
    Object.fromEntries(items.map((t) => [t.name, clean(pick(t))]));
  return {
    tools: by(defs.tools, (t) => ({ title: t.title, description: t.description, inputSchema: t.inputSchema, outputSchema: t.outputSchema, annotations: t.annotations })),
    prompts: by(defs.prompts, (p) => ({ title: p.title, description: p.description, arguments: p.arguments.map((a) => ({ name: a.name, title: a.title, description: a.description, required: a.required, complete: Array.isArray(a.complete) ? a.complete : undefined })), messages: p.messages, dynamic: p.handler !== undefined })),
    resources: by(defs.resources, (r) => ({ uri: r.uri, mimeType: r.mimeType, title: r.title, description: r.description })),
    resourceTemplates: by(defs.resourceTemplates, (r) => ({ uriTemplate: r.uriTemplate, mimeType: r.mimeType, title: r.title, description: r.description })),
  };
}

/** "sha512-…" of the canonical JSON of the pinned definitions. */
export function definitionsDigest(defs: Definitions): string {
  return `sha512-${createHash('sha512').update(canonicalJson(pinDefinitions(defs))).digest('base64')}`;
}

export interface DefinitionChange {
  readonly kind: 'tool' | 'prompt' | 'resource' | 'template';
  readonly name: string;
  readonly change: 'added' | 'removed' | 'changed';
  /** For "changed": the top-level fields that differ ("description", "inputSchema", "annotations"). */
  readonly fields: readonly string[];
}

const KINDS = [
  ['tools', 'tool'],
  ['prompts', 'prompt'],
  ['resources', 'resource'],
  ['resourceTemplates', 'template'],
] as const;

/** What changed between the consented definitions and the new ones; empty when they are identical. */
export function diffDefinitions(before: PinnedDefinitions | undefined, after: PinnedDefinitions): DefinitionChange[] {
  const out: DefinitionChange[] = [];
  for (const [key, kind] of KINDS) {
    const a = before?.[key] ?? {};
    const b = after[key];
    for (const name of Object.keys(b).sort()) {
      if (!Object.hasOwn(a, name)) out.push({ kind, name, change: 'added', fields: [] });
      else {
        const x = a[name] as Record<string, Json>;
        const y = b[name] as Record<string, Json>;
        const fields = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort().filter((f) => canonicalJson(x[f] ?? null) !== canonicalJson(y[f] ?? null));
        if (fields.length > 0) out.push({ kind, name, change: 'changed', fields });
      }
    }
    for (const name of Object.keys(a).sort()) if (!Object.hasOwn(b, name)) out.push({ kind, name, change: 'removed', fields: [] });
  }
  return out;
}

/** The diff as lines for the consent prompt (names are ASCII by the manifest schema; bounded anyway). */
export function describeDefinitionChanges(changes: readonly DefinitionChange[]): string[] {
  if (changes.length === 0) return [];
  const lines = ['This update changes what the model is told (definitions):'];
  for (const c of changes.slice(0, 64)) {
    const name = c.name.slice(0, 64);
    if (c.change === 'added') lines.push(`  + ${c.kind} ${name}`);
    else if (c.change === 'removed') lines.push(`  - ${c.kind} ${name}`);
    else lines.push(`  ~ ${c.kind} ${name}: ${c.fields.join(', ')} changed`);
  }
  if (changes.length > 64) lines.push(`  … (${changes.length - 64} more)`);
  return lines;
}
