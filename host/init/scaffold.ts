/**
 * `mcp-warden init DIR`: the files of a new tool package. TypeScript source typed with the sandbox's API
 * (types/tool-api.d.ts, copied in), a manifest asking for nothing (default deny: the author adds
 * capabilities deliberately) that serves a tool, a resource (a package file) and a prompt with
 * completions, an esbuild bundle into the single entry file the sandbox runs, a test, and a GitHub
 * Actions workflow that publishes it to npm with provenance through npm trusted publishing (OIDC, no
 * token): what `mcp-warden trust add-provenance` and `install NAME` then verify (docs/publishing.md).
 *
 * The package stays `"private": true` until its author sets `repository` (npm refuses provenance whose
 * source repository is not the package's) and removes the latch: the workflow checks both first and
 * says what to do, so nothing is published by accident.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDirectory } from '../home/files.ts';
import { HostError } from '../errors.ts';

/** The esbuild the scaffold builds with: the version mcp-warden itself is built and tested with. */
export const SCAFFOLD_ESBUILD_VERSION = '^0.28.2';
/** The TypeScript its "npm run typecheck" runs (the version mcp-warden itself is checked with). */
export const SCAFFOLD_TYPESCRIPT_VERSION = '~6.0.3';

/** The bundle command of the scaffold's `npm run build` (one ES module, no imports left: the sandbox has no module loader). */
export const SCAFFOLD_BUILD_ARGS = ['src/index.ts', '--bundle', '--format=esm', '--platform=neutral', '--target=es2023', '--outfile=dist/index.js'] as const;

/** The Node.js major version the release workflow builds with (mcp-warden's own). */
export const SCAFFOLD_NODE_MAJOR = 24;

/**
 * .github/workflows/release.yml: on a pushed tag "v<version>", build, type-check, test and publish with
 * provenance. `id-token: write` lets npm exchange the job's OIDC token for a short-lived publish
 * credential (trusted publishing) and sign the SLSA provenance with Sigstore; no npm token exists.
 */
export function releaseWorkflow(): string {
  return `# Publishes this package to npm with provenance when a tag "v<version>" is pushed.
# npm trusted publishing (OIDC): no npm token is stored anywhere. Set it up once on npmjs.com
# (package → Settings → Trusted publishing: this repository and the workflow file release.yml),
# see mcp-warden's docs/publishing.md. Users then trust the source, not a key:
#   mcp-warden trust add-provenance --repo github.com/OWNER/REPO --workflow .github/workflows/release.yml --ref 'refs/tags/v*'
name: release

on:
  push:
    tags: ['v*']

# Nothing else: read the code, and mint the OIDC token for trusted publishing and provenance.
permissions:
  contents: read
  id-token: write

jobs:
  publish:
    # Provenance needs a GitHub-hosted runner.
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: ${SCAFFOLD_NODE_MAJOR}
          registry-url: https://registry.npmjs.org
      # Trusted publishing needs npm 11.5.1 or later.
      - run: npm install --global npm@^11.5.1
      - name: Check the tag, the version and the package settings
        run: |
          version="$(node -p 'require("./package.json").version')"
          test "$GITHUB_REF" = "refs/tags/v$version" || { echo "the tag $GITHUB_REF is not v$version (package.json)"; exit 1; }
          test "$(node -p 'String(require("./package.json").private === true)')" = false || { echo 'package.json is "private": remove it to publish (docs/publishing.md)'; exit 1; }
          test -n "$(node -p 'require("./package.json").repository?.url ?? require("./package.json").repository ?? ""')" || { echo 'package.json needs "repository" (this GitHub repository): npm checks provenance against it'; exit 1; }
      - run: npm ci
      - run: npm run typecheck
      - run: npm test
      - run: npm publish --provenance --access public
`;
}

/** types/tool-api.d.ts of this installation (from the sources, or from dist/ when built). */
function toolApiTypesPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const p = join(here, up, 'types', 'tool-api.d.ts');
    if (existsSync(p)) return p;
  }
  throw new HostError('PACKAGE_INVALID', 'types/tool-api.d.ts is missing from this mcp-warden installation');
}

/** An npm package name from a directory name: lowercase, other characters folded to "-". */
export function packageNameFor(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|[-]+$/g, '');
  return name || 'my-tool';
}

function files(name: string, types: string): Record<string, string> {
  const manifest = {
    name,
    version: '0.1.0',
    description: 'An mcp-warden tool package.',
    type: 'module',
    private: true,
    files: ['dist', 'docs'],
    scripts: {
      build: `esbuild ${SCAFFOLD_BUILD_ARGS.join(' ')}`,
      test: 'npm run build && node --test test/index.test.mjs',
      typecheck: 'tsc --noEmit',
    },
    devDependencies: { esbuild: SCAFFOLD_ESBUILD_VERSION, typescript: SCAFFOLD_TYPESCRIPT_VERSION },
    mcpWarden: {
      manifestVersion: 1,
      entry: 'dist/index.js',
      tools: [
        {
          name: 'greet',
          title: 'Greet',
          description: 'Greets someone by name.',
          inputSchema: { type: 'object', properties: { who: { type: 'string', maxLength: 100 } }, required: ['who'], additionalProperties: false },
          annotations: { readOnlyHint: true },
        },
      ],
      resources: [{ name: 'about', uri: 'docs://about', file: 'docs/about.md', mimeType: 'text/markdown', title: `About ${name}`, description: 'What this package does.' }],
      prompts: [
        {
          name: 'greeting',
          title: 'Write a greeting',
          description: 'Asks for a greeting for someone, in a style.',
          arguments: [
            { name: 'who', description: 'Who to greet.', required: true },
            { name: 'style', description: 'formal or casual.', complete: ['formal', 'casual'] },
          ],
          messages: [{ role: 'user', text: 'Write a {{style}} greeting for {{who}}.' }],
        },
      ],
      capabilities: { net: [], fs: [] },
    },
  };
  return {
    'package.json': `${JSON.stringify(manifest, null, 2)}\n`,
    'src/index.ts': `/**
 * The tools of ${name}. Runs inside the mcp-warden sandbox: no Node APIs, no imports at run time (esbuild
 * bundles your dependencies into dist/index.js). Network and files only through ctx.fetch and ctx.fs,
 * and only what the manifest asks for and the user grants.
 */
import type { ToolContext, ToolHandlers } from '../types/tool-api.d.ts';

interface GreetInput {
  who: string;
}

export default {
  async greet({ who }: GreetInput, ctx: ToolContext) {
    ctx.progress(1, 1, 'done');
    ctx.log('info', \`greeted \${who}\`);
    return \`Hello, \${who}!\`;
  },
} satisfies ToolHandlers;

// The resource "docs://about" (docs/about.md) and the prompt "greeting" are static: the host serves
// them from package.json. Resource templates, prompts and completions computed by code are handlers in
// named exports, typed ResourceHandlers, PromptHandlers and CompletionHandlers (see docs/tool-api.md):
//   export const resources = { note({ uri, variables }, ctx) { return 'text'; } } satisfies ResourceHandlers;
`,
    'docs/about.md': `# ${name}

Served to MCP clients as the resource \`mcp-warden://${name}/docs://about\`.
`,
    'types/tool-api.d.ts': types,
    'test/index.test.mjs': `// Runs the bundled tool with a stand-in context: "npm test" builds first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import tools from '../dist/index.js';

const ctx = { progress() {}, log() {}, paths: {}, signal: { aborted: false } };

test('greet says hello', async () => {
  assert.equal(await tools.greet({ who: 'Ada' }, ctx), 'Hello, Ada!');
});
`,
    'tsconfig.json': `${JSON.stringify({ compilerOptions: { target: 'es2023', module: 'esnext', moduleResolution: 'bundler', strict: true, noEmit: true, allowImportingTsExtensions: true, lib: ['es2023'], types: [] }, include: ['src', 'types'] }, null, 2)}\n`,
    '.gitignore': 'node_modules/\ndist/\n',
    '.github/workflows/release.yml': releaseWorkflow(),
    'README.md': `# ${name}

An mcp-warden tool package. The tool API is typed in \`types/tool-api.d.ts\`; the manifest, the
capabilities and the commands are documented in the mcp-warden package itself
(\`node_modules/mcp-warden/docs/\`: \`manifest.md\`, \`tool-api.md\`, \`cli.md\`) and by \`mcp-warden --help\`.

\`\`\`sh
npm install && npm test                       # bundle src/ into dist/index.js and test it
mcp-warden serve --dev .                      # try it from an MCP client (unsigned: authors only)
mcp-warden pack . --out release && mcp-warden sign release/*.tgz --key YOU.key   # sign a tarball yourself
\`\`\`

To publish on npm with provenance instead (users then install it by name and trust this repository
and workflow, not a key): set \`repository\` in \`package.json\`, remove \`"private": true\`, set up
npm trusted publishing for \`.github/workflows/release.yml\` on npmjs.com, commit
\`package-lock.json\`, and push a tag \`v0.1.0\` (mcp-warden's \`docs/publishing.md\`, step by step).

Declare what the tools need in \`package.json\` → \`mcpWarden.capabilities\` (network hosts, directory
slots); users see it and consent at install. \`mcpWarden.resources\` serves \`docs/about.md\` as a
resource, \`mcpWarden.prompts\` a prompt with completions (\`manifest.md\`, "Resources" and "Prompts").
`,
  };
}

/**
 * Writes the scaffold into `dir` (created; it must not exist or be empty).
 * @returns the package name and the files written, relative to `dir`.
 * @throws HostError USAGE when `dir` holds files
 */
export async function scaffold(dir: string): Promise<{ name: string; files: string[] }> {
  if (existsSync(dir) && (await readdir(dir)).length > 0) throw new HostError('USAGE', `${dir} is not empty`);
  const name = packageNameFor(dir);
  const all = files(name, await readFile(toolApiTypesPath(), 'utf8'));
  for (const [rel, text] of Object.entries(all)) {
    await makeDirectory(dirname(join(dir, rel)));
    await writeFile(join(dir, rel), text, { flag: 'wx' });
  }
  return { name, files: Object.keys(all).sort() };
}
