/**
 * Build step: copies the isolate bootstrap (runtime/worker/bootstrap/*.js, read by the worker at start)
 * next to the compiled worker, and the wrap shims (host/wrap/shims/*.js) next to the compiled wrap step,
 * which tsc does not do for plain JavaScript files. The output directory is
 * dist/ unless one is given (the test suite's build compiles into a directory of its own first).
 *
 *   node scripts/copy-bootstrap.ts [outDir]
 */
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = join(import.meta.dirname, '..');
const from = join(root, 'runtime', 'worker', 'bootstrap');
const to = join(resolve(process.argv[2] ?? join(root, 'dist')), 'runtime', 'worker', 'bootstrap');
mkdirSync(to, { recursive: true });
for (const file of readdirSync(from)) if (file.endsWith('.js')) cpSync(join(from, file), join(to, file));
// The shims bundled into wrapped MCP servers (host/wrap/shims), read by `mcp-warden wrap`.
const shimsFrom = join(root, 'host', 'wrap', 'shims');
const shimsTo = join(resolve(process.argv[2] ?? join(root, 'dist')), 'host', 'wrap', 'shims');
mkdirSync(shimsTo, { recursive: true });
for (const file of readdirSync(shimsFrom)) if (file.endsWith('.js')) cpSync(join(shimsFrom, file), join(shimsTo, file));
