/** Writes a minimal valid tool package directory for signing and packing tests. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'mcpw-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeToolPackage(dir: string, name = '@acme/echo', version = '1.0.0', extra: Record<string, unknown> = {}): string {
  mkdirSync(join(dir, 'dist'), { recursive: true });
  const pkg = {
    name,
    version,
    type: 'module',
    mcpWarden: {
      entry: 'dist/index.js',
      tools: [{ name: 'echo', description: 'Echoes its input.', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }],
    },
    ...extra,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(join(dir, 'dist', 'index.js'), 'export const echo = ({ text }) => ({ text });\n');
  writeFileSync(join(dir, 'README.md'), `# ${name}\n`);
  return dir;
}
