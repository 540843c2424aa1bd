/**
 * A large tools/call result's text, serialized for the reply while DLP scans it. Both walk every character
 * of the text, ~3–4 ms per MB each, one after the other on the main thread: DLP's scan in the tool-call
 * handler (dlp.ts), then the reply's JSON.stringify in the transport, escaping the text's quotes. With this,
 * the JSON string form of a text of `minChars` or more is made on the host's JSON thread (json-thread.ts)
 * while the main thread scans the same text; the transport then writes that form in place of a second
 * serialization.
 *
 * What is sent does not change: the JSON form is used only for a text DLP left as it was (the very string
 * object the thread was given), and `JSON.stringify` of a string depends on nothing but its characters, so
 * splicing it in gives the line JSON.stringify(message) would. DLP itself runs as before, on the main thread.
 */
import { randomUUID } from 'node:crypto';
import type { JsonThread } from './json-thread.ts';

/** Texts at least this long (UTF-16 code units) have their JSON made on the thread. */
export const THREADED_JSON_MIN_CHARS = 256 * 1024;

/** JSON forms held for replies not yet written; beyond this the oldest goes (its reply serializes as before). */
const MAX_HELD = 4;

/** The JSON form of a result's large text, on its way. */
export interface EarlyJson {
  /**
   * After DLP: keeps the JSON form for the transport when `result` still carries the text as it was; waits
   * for the thread (which has been working while DLP scanned). Never throws: a failed thread means the reply
   * serializes as before.
   */
  ready(result: unknown): Promise<void>;
}

export interface ReplyJson {
  /** Starts the JSON form of the first large text item of `result` (before DLP); undefined when there is none or the thread cannot take it now. */
  begin(result: unknown): EarlyJson | undefined;
  /** The line of `message`: JSON.stringify(message), with the JSON forms kept by `ready` spliced in (each used once). */
  serialize(message: unknown): string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The text items' texts of a result's content. */
function texts(result: unknown): string[] {
  const content = isRecord(result) ? result.content : undefined;
  if (!Array.isArray(content)) return [];
  const out: string[] = [];
  for (const item of content) if (isRecord(item) && item.type === 'text' && typeof item.text === 'string') out.push(item.text);
  return out;
}

export function createReplyJson(thread: Pick<JsonThread, 'stringify'>, minChars: number = THREADED_JSON_MIN_CHARS): ReplyJson {
  /** A text's JSON form, until its reply is serialized. */
  const held = new Map<string, string>();
  // Stands in for a text while the rest of the message is serialized: unguessable, so no text of a tool's
  // can be taken for it.
  const token = `\u0000mcp-warden-json:${randomUUID()}:`;

  return {
    begin(result) {
      const text = texts(result).find((t) => t.length >= minChars);
      if (text === undefined) return undefined;
      const made = thread.stringify(text)?.catch(() => undefined);
      if (made === undefined) return undefined;
      return {
        async ready(after) {
          const json = await made;
          if (json === undefined || !texts(after).includes(text)) return;
          if (held.size >= MAX_HELD) held.delete(held.keys().next().value as string);
          held.set(text, json);
        },
      };
    },

    serialize(message) {
      if (held.size === 0) return JSON.stringify(message);
      const result = isRecord(message) ? message.result : undefined;
      const content = isRecord(result) ? result.content : undefined;
      if (!Array.isArray(content)) return JSON.stringify(message);
      const parts: string[] = [];
      const swapped = content.map((item: unknown) => {
        if (!isRecord(item) || item.type !== 'text' || typeof item.text !== 'string') return item;
        const json = held.get(item.text);
        if (json === undefined) return item;
        held.delete(item.text);
        parts.push(json);
        return { ...item, text: `${token}${parts.length - 1}` };
      });
      if (parts.length === 0) return JSON.stringify(message);
      // The same keys in the same order: only the texts differ, each a placeholder found once below.
      let line = JSON.stringify({ ...(message as Record<string, unknown>), result: { ...(result as Record<string, unknown>), content: swapped } });
      parts.forEach((json, i) => {
        const placeholder = JSON.stringify(`${token}${i}`);
        const at = line.indexOf(placeholder);
        line = line.slice(0, at) + json + line.slice(at + placeholder.length);
      });
      return line;
    },
  };
}
