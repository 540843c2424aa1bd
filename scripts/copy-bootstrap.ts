/**
 * Build step: copies the isolate bootstrap (runtime/worker/bootstrap/*.js, read by the worker at start)
 * next to the compiled worker in dist/, which tsc does not do for plain JavaScript files.
 */
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const from = join(import.meta.dirname, '..', 'runtime', 'worker', 'bootstrap');
const to = join(import.meta.dirname, '..', 'dist', 'runtime', 'worker', 'bootstrap');
mkdirSync(to, { recursive: true });
for (const file of readdirSync(from)) if (file.endsWith('.js')) cpSync(join(from, file), join(to, file));
