/**
 * A tool call's arguments as its frame carries them to the worker (runtime/protocol.ts), made by the caller
 * with the arguments it checked (host/serve/tool-call.ts). Usually their JSON. When they are an object with
 * long string values at its top level (a file's text, a document, JSON in a string), each of those travels
 * raw instead, after the JSON of the rest: escaping a string into JSON costs ~2 ns per character in the host
 * (a 92 KB argument holding JSON: ~250 µs), and parsing it back in the isolate ~1 ns. The isolate puts each
 * string back under its key (runtime/worker/bootstrap/entries.js), so the tool gets the same object, keys
 * in the same order.
 *
 * Pure: no I/O.
 */

/** Strings shorter than this (UTF-16 units) are left in the JSON: below it, escaping costs too little. */
export const RAW_STRING_MIN = 4096;

/** Each long string that follows the JSON in ArgsFrame.text: its key and its length (UTF-16 units), in order. */
export type RawStrings = readonly (readonly [key: string, length: number])[];

export interface ArgsFrame {
  /** JSON of the arguments (each raw string replaced by 0), then the raw strings one after the other. */
  readonly text: string;
  /** Absent: `text` is `JSON.stringify(args)`. */
  readonly raw?: RawStrings;
}

/**
 * The frame of `args`. A string is sent raw when it is at least RAW_STRING_MIN long and well formed
 * (UTF-8, the frame's encoding, cannot carry a lone surrogate; JSON escapes it), and only while the
 * arguments' JSON is sure to stay within `inputBytes` (a character takes at most 6 bytes in JSON, as
 * `\uXXXX`): the input limit applies to their JSON, and a string near it is measured by serializing it.
 */
export function frameArgs(args: unknown, inputBytes: number): ArgsFrame {
  if (args === null || typeof args !== 'object' || Array.isArray(args) || Object.getPrototypeOf(args) !== Object.prototype) return { text: JSON.stringify(args) };
  const record = args as Record<string, unknown>;
  let raw: [string, number][] | undefined;
  let bound = 0;
  for (const key of Object.keys(record)) {
    const v = record[key];
    if (typeof v === 'string' && v.length >= RAW_STRING_MIN && v.isWellFormed()) {
      (raw ??= []).push([key, v.length]);
      bound += 6 * v.length + 2;
    }
  }
  if (raw === undefined) return { text: JSON.stringify(args) };
  const skeleton: Record<string, unknown> = { ...record };
  for (const [key] of raw) skeleton[key] = 0;
  const json = JSON.stringify(skeleton);
  if (3 * json.length + bound > inputBytes) return { text: JSON.stringify(args) };
  let text = json;
  for (const [key] of raw) text += record[key] as string;
  return { text, raw };
}
