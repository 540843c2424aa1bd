/**
 * Every text a package puts in front of the model, with where it sits: tool, prompt, resource and template
 * names, titles, descriptions; the descriptions, titles, enum/const/default/examples strings and property
 * names found anywhere in the input and output schemas; annotation titles; prompt argument texts and
 * static prompt messages. Pure: plain data in, plain data out.
 */
import type { Manifest } from '../../manifest.ts';

/** What a text is, which decides the checks that apply to it. */
export type TextKind = 'name' | 'title' | 'description' | 'value' | 'message';

export interface DefinitionText {
  /** "tool grep", "prompt summarize", "resource readme", "template note". */
  readonly owner: string;
  /** The field path inside the definition: "description", "inputSchema.properties.mode.enum[1]". */
  readonly field: string;
  readonly kind: TextKind;
  readonly text: string;
}

/** The definitions only: the subset of a manifest the checks and the pin read. */
export type Definitions = Pick<Manifest, 'tools' | 'prompts' | 'resources' | 'resourceTemplates'>;

const MAX_SCHEMA_DEPTH = 64;

function walkSchema(node: unknown, owner: string, path: string, out: DefinitionText[], depth: number): void {
  if (depth > MAX_SCHEMA_DEPTH || node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    node.forEach((item, i) => walkSchema(item, owner, `${path}[${i}]`, out, depth + 1));
    return;
  }
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    const at = `${path}.${key}`;
    if ((key === 'description' || key === '$comment') && typeof value === 'string') out.push({ owner, field: at, kind: 'description', text: value });
    else if (key === 'title' && typeof value === 'string') out.push({ owner, field: at, kind: 'title', text: value });
    else if ((key === 'enum' || key === 'examples') && Array.isArray(value)) {
      value.forEach((v, i) => {
        if (typeof v === 'string') out.push({ owner, field: `${at}[${i}]`, kind: 'value', text: v });
      });
    } else if ((key === 'const' || key === 'default') && typeof value === 'string') out.push({ owner, field: at, kind: 'value', text: value });
    else if ((key === 'properties' || key === 'patternProperties' || key === '$defs' || key === 'definitions') && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [prop, sub] of Object.entries(value as Record<string, unknown>)) {
        if (key === 'properties') out.push({ owner, field: `${at}.${prop}`, kind: 'name', text: prop });
        walkSchema(sub, owner, `${at}.${prop}`, out, depth + 1);
      }
    } else if (typeof value === 'object') walkSchema(value, owner, at, out, depth + 1);
  }
}

function common(owner: string, d: { readonly name: string; readonly title?: string | undefined; readonly description?: string | undefined }, out: DefinitionText[]): void {
  out.push({ owner, field: 'name', kind: 'name', text: d.name });
  if (d.title !== undefined) out.push({ owner, field: 'title', kind: 'title', text: d.title });
  if (d.description !== undefined) out.push({ owner, field: 'description', kind: 'description', text: d.description });
}

/** All model-facing texts of the definitions, in a stable order. */
export function definitionTexts(defs: Definitions): DefinitionText[] {
  const out: DefinitionText[] = [];
  for (const t of defs.tools) {
    const owner = `tool ${t.name}`;
    common(owner, t, out);
    if (t.annotations?.title !== undefined) out.push({ owner, field: 'annotations.title', kind: 'title', text: t.annotations.title });
    walkSchema(t.inputSchema, owner, 'inputSchema', out, 0);
    if (t.outputSchema) walkSchema(t.outputSchema, owner, 'outputSchema', out, 0);
  }
  for (const p of defs.prompts) {
    const owner = `prompt ${p.name}`;
    common(owner, p, out);
    p.arguments.forEach((a, i) => {
      out.push({ owner, field: `arguments[${i}].name`, kind: 'name', text: a.name });
      if (a.title !== undefined) out.push({ owner, field: `arguments[${i}].title`, kind: 'title', text: a.title });
      if (a.description !== undefined) out.push({ owner, field: `arguments[${i}].description`, kind: 'description', text: a.description });
      if (Array.isArray(a.complete)) (a.complete as readonly string[]).forEach((c, j) => out.push({ owner, field: `arguments[${i}].complete[${j}]`, kind: 'value', text: c }));
    });
    (p.messages ?? []).forEach((m, i) => out.push({ owner, field: `messages[${i}].text`, kind: 'message', text: m.text }));
  }
  for (const r of defs.resources) common(`resource ${r.name}`, r, out);
  for (const r of defs.resourceTemplates) common(`template ${r.name}`, r, out);
  return out;
}
