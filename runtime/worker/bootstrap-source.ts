/**
 * The JavaScript that runs first in every tool context, before any tool code: the files of
 * runtime/worker/bootstrap/ (plain JavaScript, type-checked against types/tool-api.d.ts and linted), joined
 * in the order below and evaluated as the body of a closure over three isolated-vm Callbacks ($0, $1, $2).
 *
 * The files are ES modules for the type-checker and the linter only: here their `import … from './x.js'`
 * statements are removed and their `export` keywords dropped, so that they share one closure scope. The
 * join fails closed: any other import or export form left over is an error, not a silently broken sandbox.
 * The files are read once per worker process; the build copies them next to the compiled worker.
 */
import { readFileSync } from 'node:fs';

/** In evaluation order: each file uses only what the files before it declare at load time. */
const FILES = ['intrinsics.js', 'text.js', 'calls.js', 'url.js', 'fetch.js', 'fs.js', 'timers.js', 'crypto.js', 'context.js', 'entries.js'];

const IMPORT = /^import\s[^;]*?\sfrom\s+'\.\/[a-z-]+\.js';[ \t]*\n/gm;
const EXPORT = /^export (?=(?:const|let|function|class) )/gm;
const LEFTOVER = /^\s*(?:import|export)\b/m;

let source: string | null = null;

export function bootstrapSource(): string {
  if (source !== null) return source;
  const parts = ["'use strict';"];
  for (const file of FILES) {
    const text = readFileSync(new URL(`./bootstrap/${file}`, import.meta.url), 'utf8').replace(IMPORT, '').replace(EXPORT, '');
    if (LEFTOVER.test(text)) throw new Error(`bootstrap/${file}: an import or export form the join does not handle`);
    parts.push(`// ---- ${file} ----`, text);
  }
  parts.push('return ENTRIES;');
  source = parts.join('\n');
  return source;
}
