/**
 * Turns a tool's returned value into a CallToolResult (docs/manifest.md, "Results"):
 * - a value shaped like a CallToolResult (an object whose only keys are content, structuredContent and
 *   isError, with a content array) is used as one, after checking it against the MCP schema;
 * - with an outputSchema, the value must be an object matching it: it is the structuredContent, and its
 *   JSON the text content;
 * - otherwise a string is the text, any other value its JSON.
 *
 * Threat: the value is untrusted; it is checked against the MCP result schema and the declared output
 * schema before it reaches the client, and never carries host objects (it was parsed from JSON).
 */
import { specTypeSchemas } from '@modelcontextprotocol/server';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { HostError } from '../errors.ts';
import type { LoadedTool } from './loader.ts';
import { describeAjvError } from './validation.ts';

const RESULT_KEYS = new Set(['content', 'structuredContent', 'isError']);

function isResultShaped(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return Array.isArray((v as { content?: unknown }).content) && keys.every((k) => RESULT_KEYS.has(k));
}

function checkStructured(tool: LoadedTool, value: unknown): void {
  const validate = tool.validateOutput;
  if (!validate) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HostError('OUTPUT_SCHEMA_MISMATCH', 'the tool declares an outputSchema but returned no object');
  }
  if (!validate(value)) throw new HostError('OUTPUT_SCHEMA_MISMATCH', `the tool's result does not match its outputSchema: ${describeAjvError(validate.errors, 'result')}`);
}

/**
 * Whether a tool result's JSON text can be sent as its text content without parsing it (RunOptions.keepJson,
 * for a tool without an outputSchema): an array, or an object whose first key is none of a CallToolResult's
 * (JSON.stringify writes a result-shaped object's keys, content, structuredContent and isError, first:
 * none is an integer key). Such a value is neither a string nor result-shaped, so its text content is its
 * JSON, which is this text. Anything else (a string, a number, a possible CallToolResult) is parsed.
 */
export function isPlainResultJson(json: string): boolean {
  const first = json.charCodeAt(0);
  if (first === 0x5b) return true; // [
  if (first !== 0x7b) return false; // {
  return !(json.startsWith('{"content":') || json.startsWith('{"structuredContent":') || json.startsWith('{"isError":'));
}

/**
 * The result, checked: the schemas judge what the tool returned; the caller then applies the package's DLP
 * policy to it (host/serve/dlp.ts), scrubbing this fresh object in place, so that what reaches the client
 * is scrubbed. `json`, when given, is the JSON text `value` was parsed from (RunResult.json): a plain
 * value's text content is that text, not a second serialization of the parsed value (the same text; a 1 MB
 * result costs milliseconds to serialize). The value is still parsed and checked.
 * @throws HostError OUTPUT_SCHEMA_MISMATCH
 */
export function checkedResult(tool: LoadedTool, value: unknown, json: string | undefined): CallToolResult {
  // Not parsed (isPlainResultJson accepted it; never with an outputSchema): its JSON is its text.
  if (value === undefined && json !== undefined && !tool.validateOutput) return { content: [{ type: 'text', text: json }] };
  if (isResultShaped(value)) {
    const parsed = specTypeSchemas.CallToolResult['~standard'].validate(value);
    if (parsed instanceof Promise || parsed.issues !== undefined) throw new HostError('OUTPUT_SCHEMA_MISMATCH', 'the tool returned a malformed CallToolResult (content items must be MCP content blocks)');
    const result = parsed.value as CallToolResult;
    if (tool.validateOutput && !result.isError) {
      if (result.structuredContent === undefined) throw new HostError('OUTPUT_SCHEMA_MISMATCH', 'the tool declares an outputSchema but returned no structuredContent');
      checkStructured(tool, result.structuredContent);
    }
    return result;
  }
  if (tool.validateOutput) {
    checkStructured(tool, value);
    return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> };
  }
  return { content: [{ type: 'text', text: typeof value === 'string' ? value : (json ?? JSON.stringify(value)) }] };
}
