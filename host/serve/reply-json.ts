/**
 * A large tools/call result's text, serialized for the reply while DLP scans it. Both walk every character
 * of the text, ~3–4 ms per MB each, one after the other on the main thread: DLP's scan in the tool-call
 * handler (dlp.ts), then the reply's JSON.stringify in the transport, escaping the text's quotes, and its
 * UTF-8 encoding for stdout. With this, the JSON string form of a text of `minChars` or more is made, as
 * UTF-8 bytes, on the host's JSON thread (json-thread.ts) while the main thread scans the same text; the
 * transport then writes those bytes in the reply's line in place of a second serialization.
 *
 * What is sent does not change: the bytes are used only for a text DLP left as it was (the very string
 * object the thread was given), and `JSON.stringify` of a string depends on nothing but its characters, so
 * the line is, byte for byte, the UTF-8 of JSON.stringify(message). DLP itself runs as before, on the main
 * thread.
 */
import { randomUUID } from 'node:crypto';
import type { JsonThread } from './json-thread.ts';

/** Texts at least this long (UTF-16 code units) have their JSON made on the thread. */
export const THREADED_JSON_MIN_CHARS = 256 * 1024;

/** JSON forms held for replies not yet written; beyond this the oldest goes (its reply serializes as before). */
const MAX_HELD = 4;

const NEWLINE = Buffer.from('\n');

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
  /**
   * The line of `message`, newline included: `${JSON.stringify(message)}\n`, or its UTF-8 bytes with the
   * JSON forms kept by `ready` in place (each used once).
   */
  line(message: unknown): string | Buffer;
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

export function createReplyJson(thread: Pick<JsonThread, 'jsonBytes'>, minChars: number = THREADED_JSON_MIN_CHARS): ReplyJson {
  /** A text's JSON form (UTF-8), until its reply is serialized. */
  const held = new Map<string, Uint8Array>();
  // Stands in for a text while the rest of the message is serialized: unguessable, so no text of a tool's
  // can be taken for it.
  const token = `\u0000mcp-warden-json:${randomUUID()}:`;

  return {
    begin(result) {
      const text = texts(result).find((t) => t.length >= minChars);
      if (text === undefined) return undefined;
      const made = thread.jsonBytes(text)?.catch(() => undefined);
      if (made === undefined) return undefined;
      return {
        async ready(after) {
          const bytes = await made;
          if (bytes === undefined || !texts(after).includes(text)) return;
          if (held.size >= MAX_HELD) held.delete(held.keys().next().value as string);
          held.set(text, bytes);
        },
      };
    },

    line(message) {
      const plain = (): string => `${JSON.stringify(message)}\n`;
      if (held.size === 0) return plain();
      const result = isRecord(message) ? message.result : undefined;
      const content = isRecord(result) ? result.content : undefined;
      if (!Array.isArray(content)) return plain();
      const parts: Uint8Array[] = [];
      const swapped = content.map((item: unknown) => {
        if (!isRecord(item) || item.type !== 'text' || typeof item.text !== 'string') return item;
        const bytes = held.get(item.text);
        if (bytes === undefined) return item;
        held.delete(item.text);
        parts.push(bytes);
        return { ...item, text: `${token}${parts.length - 1}` };
      });
      if (parts.length === 0) return plain();
      // The same keys in the same order: only the texts differ, each a placeholder found once below.
      const rest = JSON.stringify({ ...(message as Record<string, unknown>), result: { ...(result as Record<string, unknown>), content: swapped } });
      const chunks: Uint8Array[] = [];
      let from = 0;
      for (const [i, bytes] of parts.entries()) {
        const placeholder = JSON.stringify(`${token}${i}`);
        const at = rest.indexOf(placeholder, from);
        // Not where it was put (a message serialized some other way, e.g. by a toJSON of its own): the
        // message is serialized as it is, without the held form.
        if (at < 0) return plain();
        chunks.push(Buffer.from(rest.slice(from, at)), bytes);
        from = at + placeholder.length;
      }
      chunks.push(Buffer.from(rest.slice(from)), NEWLINE);
      return Buffer.concat(chunks);
    },
  };
}
